"""The worker's own offset commits: per topic partition, the offset before which everything was done.

Why not Faust's acks: Faust commits, per partition, the end of the first run of acked offsets, and
(a) it acks by itself the messages its stream iterator skips while flow control is suspended at the
start of a rebalance, or that carry an older generation id, although no agent saw them; (b) when no
offset was committed yet it does not check that this run starts at the partition's first offset.
Together, a rebalance can commit past messages that were never processed (seen in the two-worker
test: a sink batch of events.ingested lost). So the topics are declared with acks disabled, and the
agents report what they have finished to an `Offsets`, which the app commits every second.

Within one consumer generation the messages of a partition must come in offset order from the
committed offset on. Anything else is handled here: an offset below the next expected one was seen
already in this generation (dropped); an offset above it means messages were skipped: they are
dropped too, and the partition is sought back to the expected offset (`gap`), so nothing is ever
committed that was not processed.
"""

from __future__ import annotations

ACCEPT, REPEAT, GAP = "accept", "repeat", "gap"


async def resume_offsets(consumer, tps) -> dict:
    """Where a consumer group resumes each partition: its committed offset, else the log start.
    `consumer` is an aiokafka consumer of the group, `tps` its TopicPartitions."""
    committed = {tp: await consumer.committed(tp) for tp in tps}
    missing = [tp for tp, off in committed.items() if off is None]
    begin = await consumer.beginning_offsets(missing) if missing else {}
    return {tp: begin[tp] if off is None else off for tp, off in committed.items()}


class Offsets:
    def __init__(self) -> None:
        self.generation: int | None = None
        self.next: dict = {}          # tp -> the next offset expected in this generation
        self.done: dict = {}          # tp -> every offset before this one is done
        self.seeking: dict = {}       # tp -> offset a seek was asked for
        self.committed: dict = {}     # tp -> the last offset this worker committed

    def new_generation(self, generation: int) -> bool:
        """Forget everything of an older generation; True when the generation changed."""
        if generation == self.generation:
            return False
        self.generation = generation
        self.next.clear()
        self.done.clear()
        self.seeking.clear()
        self.committed.clear()
        return True

    def known(self, tp) -> bool:
        return tp in self.next

    def start(self, tp, offset: int) -> None:
        """Where this generation starts reading `tp` (its committed offset, or the log start)."""
        self.next[tp] = offset
        self.done[tp] = offset
        self.committed[tp] = offset

    def accept(self, tp, offset: int) -> str:
        expected = self.next[tp]
        if offset == expected:
            self.next[tp] = offset + 1
            self.seeking.pop(tp, None)
            return ACCEPT
        if offset < expected:
            return REPEAT
        return GAP

    def complete(self, tp, next_offset: int) -> None:
        """Every message of `tp` before `next_offset` (accepted in this generation) is done."""
        if next_offset > self.done.get(tp, -1):
            self.done[tp] = next_offset

    def to_commit(self, assigned) -> dict:
        return {tp: off for tp, off in self.done.items()
                if tp in assigned and off > self.committed.get(tp, -1)}

    def committed_now(self, offsets: dict) -> None:
        for tp, off in offsets.items():
            if off > self.committed.get(tp, -1):
                self.committed[tp] = off
