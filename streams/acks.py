"""Acknowledging source messages in offset order, once each one's effects are durable.

Faust commits, per topic partition, the end of the first run of consecutive acked offsets, and it
tolerates a one-offset hole at the head of that run (faust/transport/consumer.py `_new_offset`).
An agent that holds some messages back (the scoring agent keeps records until the watermark passes
them) and acks later ones could thus see a commit pass a message it has not applied yet. So agents
ack through an AckQueue: a message is acked only when it and every earlier message of its
partition are done. Messages behind a held one stay unacked; after a crash they are delivered again
and recognised as already applied (streams/scoring.py).
"""

from __future__ import annotations

from collections import deque


class Token:
    """One message waiting for `pending` units of work (records to apply) before it may be acked."""

    __slots__ = ("event", "pending")

    def __init__(self, event, pending: int = 0):
        self.event = event
        self.pending = pending


class AckQueue:
    def __init__(self) -> None:
        self._queues: dict[object, deque[Token]] = {}

    def add(self, tp, event, pending: int = 0) -> Token:
        token = Token(event, pending)
        q = self._queues.get(tp)
        if q is None:
            q = self._queues[tp] = deque()
        q.append(token)
        return token

    def ready(self) -> list:
        """Events that can be acked now: for each partition, the done prefix of its queue."""
        out = []
        for q in self._queues.values():
            while q and q[0].pending <= 0:
                out.append(q.popleft().event)
        return out

    def drop(self, keep) -> None:
        """Forget the queues of partitions for which keep(tp) is false (revoked: never acked here)."""
        for tp in [tp for tp in self._queues if not keep(tp)]:
            del self._queues[tp]

    def held(self) -> int:
        return sum(len(q) for q in self._queues.values())
