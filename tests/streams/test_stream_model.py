"""The stream's logic without Kafka: ingest and scorers connected by in-memory partition logs, with
random batch sizes, random interleaving of partitions, and crashes of either side that lose
everything not committed (the scorer restarts from its table values and its committed offsets, the
ingest from its table values and its committed source offsets, re-sending what it had sent).

Whatever happens, the outputs a sink would store are replay's: the same contributions (with score
and level), the same alert changes, the same entity rows, no contribution twice in effect.
"""

from __future__ import annotations

import random

import pytest

from pipeline.replay import replay
from pipeline.storage.replay_store import entity_records
from streams import codec
from streams.acks import AckQueue
from streams.ingest import Ingest
from streams.partitioning import OccurredAtPartitioner
from streams.scoring import PartitionScorer
from tests.pipeline import enginekit as ek

RAW = "events.raw"


def simulated(days: int, seed: int) -> list[bytes]:
    from pipeline.simulate.simulation import simulate
    from pipeline.simulate.writer import iter_lines

    return list(iter_lines(simulate(days, seed, malformed_rate=0.05)))


class Model:
    """events.raw partitions -> Ingest -> by-entity partition logs -> PartitionScorers -> outputs."""

    def __init__(self, lines, cfg, sources: int, partitions: int, rng: random.Random, clock="event"):
        part = OccurredAtPartitioner(sources)
        self.raw = [[] for _ in range(sources)]
        for line in lines:
            self.raw[part(line)].append(line)
        self.cfg, self.rng, self.clock = cfg, rng, clock
        self.partitions = partitions
        self.logs: list[list[bytes]] = [[] for _ in range(partitions)]
        self.ingest_table: dict[bytes, bytes] = {}
        self.entity_table: dict[int, dict[bytes, bytes]] = {P: {} for P in range(partitions)}
        self.raw_committed = [0] * sources
        self.committed = [0] * partitions
        self.outputs: list = []
        self.rejected = 0
        self.duplicates: set = set()
        self.new_ingest()
        self.scorers: dict[int, tuple] = {}
        self.acked: dict[int, set] = {}

    # ingest side
    def new_ingest(self):
        self.ingest = Ingest(self.cfg, RAW, self.partitions, clock=self.clock)
        for p in range(len(self.raw)):
            self.ingest.restore(p, list(self.ingest_table.items()))
        self.raw_pos = list(self.raw_committed)

    def ingest_step(self):
        p = self.rng.randrange(len(self.raw))
        start = self.raw_pos[p]
        n = self.rng.randint(1, 40)
        batch = [(p, o, self.raw[p][o]) for o in range(start, min(start + n, len(self.raw[p])))]
        out = self.ingest.process(batch)
        self.raw_pos[p] = start + len(batch)
        self.rejected += out.rejected
        for doc in out.ingested.values():
            self.duplicates.update((doc["p"], d[1]) for d in doc["d"])
        self.send(out.by_entity)
        for _, key, value in out.state:
            if value is None:
                self.ingest_table.pop(key, None)
            else:
                self.ingest_table[key] = value
        if self.rng.random() < 0.7:     # the batch is committed (acked, offsets committed)
            self.raw_committed[p] = self.raw_pos[p]

    def send(self, by_entity):
        """Records, then the progress ticks after them, to every by-entity partition (the timer sends
        ticks alone while the ingest is idle)."""
        ticks = [self.ingest.tick(q, self.raw_pos[q] >= len(self.raw[q])) for q in range(len(self.raw))]
        for P in range(self.partitions):
            self.logs[P].append(codec.dumps({"r": by_entity.get(P, []), "n": len(self.raw), "k": ticks}))

    # scoring side
    def scorer(self, P):
        if P not in self.scorers:
            scorer = PartitionScorer(P, self.cfg, self.clock)
            scorer.restore(list(self.entity_table[P].items()))
            self.scorers[P] = (scorer, AckQueue(), [self.committed[P]])
        return self.scorers[P]

    def score_step(self, P):
        scorer, acks, pos = self.scorer(P)
        log = self.logs[P]
        n = self.rng.randint(1, 6)
        for offset in range(pos[0], min(pos[0] + n, len(log))):
            token = acks.add(P, offset)
            scorer.receive(codec.loads(log[offset]), token)
            pos[0] = offset + 1
        out = scorer.flush(now=0.0)
        self.outputs += out.contributions + out.alerts + out.entities
        if self.rng.random() < 0.1:
            self.crash_scorer(P)   # crash after the outputs were sent, before the table write
            return
        if self.rng.random() < 0.5:
            return                 # table values are written every so often, acks wait for them
        for key, value in scorer.state_writes():
            self.entity_table[P][key] = value
        acked = self.acked.setdefault(P, set())
        acked.update(acks.ready())
        if self.rng.random() < 0.5:   # a commit: the contiguous acked run from the committed offset
            while self.committed[P] in acked:
                acked.discard(self.committed[P])
                self.committed[P] += 1

    def crash_scorer(self, P):
        self.scorers.pop(P, None)
        self.acked.pop(P, None)

    def run(self):
        rng = self.rng
        while True:
            more_raw = any(pos < len(r) for pos, r in zip(self.raw_pos, self.raw, strict=False))
            if more_raw and rng.random() < 0.5:
                self.ingest_step()
                if rng.random() < 0.02:
                    self.new_ingest()          # ingest crash: back to its committed offsets
                continue
            if not more_raw and rng.random() < 0.1:
                self.send({})
            P = rng.randrange(self.partitions)
            self.score_step(P)
            if rng.random() < 0.03:
                self.crash_scorer(P)
            if not more_raw and all(self.committed[q] == len(self.logs[q]) for q in range(self.partitions)):
                if all(self.scorer(q)[0].watermark.caught_up() for q in range(self.partitions)):
                    return


def stored(records):
    """What the sink's idempotent writes keep: one row per contribution identity, alert changes as a
    set, entities by ref with the latest non-null building."""
    from pipeline.engine.alerts import AlertChange
    from pipeline.engine.engine import Contribution

    contributions = {(c.entity, c.rule, c.at, c.events): (c.points, c.score, c.level, c.building)
                     for c in records if isinstance(c, Contribution)}
    alerts = {(a.alert_id, a.change, a.at, a.level, a.rules, a.assignee, a.score)
              for a in records if isinstance(a, AlertChange)}
    entities = {}
    for e in records:
        if not isinstance(e, (Contribution, AlertChange)):
            if e.building is not None or e.ref not in entities:
                entities[e.ref] = (e.building, e.criticality)
    return contributions, alerts, entities


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_crashes_and_redeliveries_give_replays_results(seed):
    cfg = ek.project_config()
    lines = simulated(3, 40 + seed)
    oracle = replay(lines, cfg)
    rng = random.Random(seed)
    model = Model(lines, cfg, sources=rng.choice([1, 3, 4]), partitions=rng.choice([1, 2, 5]), rng=rng)
    model.run()
    contributions, alerts, entities = stored(model.outputs)
    o_contributions, o_alerts, _ = stored(oracle.contributions + oracle.alert_changes)
    assert contributions == o_contributions
    assert alerts == o_alerts
    assert entities == {e.ref: (e.building, e.criticality) for e in entity_records(oracle, cfg)}
    assert model.rejected >= len(oracle.rejections)
    assert len(model.duplicates) == oracle.duplicates
