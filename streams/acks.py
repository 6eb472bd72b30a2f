"""Source messages done in offset order, once each one's effects are durable.

The scoring agent holds records back until the watermark passes them, so a later message of a
partition can be finished before an earlier one. A commit must never pass a message not yet
applied: messages go through an AckQueue, and a message counts as done (streams/commits.py) only
when it and every earlier message of its partition are done. Messages behind a held one stay
uncommitted; after a crash they are delivered again and recognised as already applied
(streams/scoring.py).
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
