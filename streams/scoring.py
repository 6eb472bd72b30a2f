"""Scoring: the engine on one events.by-entity partition, applying records in occurred_at order.

One `PartitionScorer` per assigned partition holds an Engine whose entities are that partition's
entities (restored from the `entity-state` table on assignment). Records are applied with
`Engine.process(ev, only=<this partition's targets of the event>)`:

- clock: event. A record waits in a reorder buffer until the partition's low watermark W passes
  it (streams/watermark.py); then every waiting record with t < W is applied in (t, source partition,
  source offset) order, and deadlines due before W fire (`Engine.advance`). When every source is
  caught up (W = +inf) all is applied and the clock moves to the greatest occurred_at, firing what is
  due by then (`Engine.finish`), as replay does at the end of its input. Applied in occurred_at order,
  an entity's results do not depend on other entities' events (tests/pipeline/engine/
  test_properties.py), so each partition reproduces replay for its entities.
- clock: wall. Records are applied as they arrive; before each batch, deadlines due before the wall
  clock fire and the engine clock moves to it (docs/contract.md §4).

Exactly-once effects over at-least-once delivery: the table value of an entity is
    {"s": engine state | None, "m": {source partition: greatest source offset applied}, "e": 0|1|2}
and a record (p, o) with o <= m[p] is not applied again. Records of one source partition reach an
entity in offset order (one producer per source partition at a time, Kafka keeps its order), and are
applied in that order in both clock modes, so "o <= m[p]" is exactly "applied before", whether the
record is this partition's message delivered again or the ingest's re-send after its own restart.
"e" records whether (and with which building) the entity's row was sent to the sink.
A meta value "~clock:<P>" keeps the engine clock of the last completed batch, the restored clock.

Transport-free: streams/app.py feeds messages in and sends what `flush` returns.
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pipeline.configset import ConfigSet
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution, Engine
from pipeline.storage.rows import EntityRecord
from streams import codec
from streams.watermark import INF, NEG_INF, Watermark

log = logging.getLogger("riskwatch.stream.scoring")


def clock_key(partition: int) -> bytes:
    return b"~clock:%d" % partition


class TrackedStates(dict):
    """The engine's entity dict, remembering which entities the engine looked at since `reset`
    (those whose state may have changed and must be written back)."""

    __slots__ = ("touched",)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.touched: set[str] = set()

    def get(self, key, default=None):
        self.touched.add(key)
        return dict.get(self, key, default)

    def __getitem__(self, key):
        self.touched.add(key)
        return dict.__getitem__(self, key)

    def __setitem__(self, key, value):
        self.touched.add(key)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self.touched.add(key)
        dict.__delitem__(self, key)


@dataclass
class Flushed:
    contributions: list[Contribution] = field(default_factory=list)
    alerts: list[AlertChange] = field(default_factory=list)
    entities: list[EntityRecord] = field(default_factory=list)
    applied: int = 0

    def __bool__(self) -> bool:
        return bool(self.contributions or self.alerts or self.entities)


class PartitionScorer:
    def __init__(self, partition: int, cfg: ConfigSet, clock: str = "event"):
        self.partition = partition
        self.cfg = cfg
        self.event_clock = clock == "event"
        self.engine = Engine(cfg.rules, cfg.area, cfg.assignments)
        self.states = TrackedStates()
        self.engine.restore(self.states, NEG_INF)
        self.books: dict[str, dict] = {}
        self.watermark = Watermark()
        self.pending: list = []                 # heap (clock: event) of waiting records
        self.arrivals: deque = deque()          # clock: wall
        self._seq = 0
        self._written: dict[bytes, bytes] = {}  # last value written per key (unchanged values are skipped)
        self.dirty: set[str] = set()            # entities whose table value may have changed since written
        self._finished_at: float | None = None

    # -- state -------------------------------------------------------------------------------------

    def restore(self, items) -> None:
        """Adopt the partition's table entries: (key bytes, value bytes)."""
        states = TrackedStates()
        clock = NEG_INF
        meta = clock_key(self.partition)
        for key, value in items:
            if value is None:
                continue
            if key == meta:
                clock = codec.loads(value)["clock"]
            elif key[:1] != b"~":
                data = codec.loads(value)
                ref = key.decode("utf-8")
                self.books[ref] = {"m": {int(p): o for p, o in data["m"].items()}, "e": data["e"]}
                if data["s"] is not None:
                    states[ref] = data["s"]
            self._written[key] = value
        self.states = states
        self.engine.restore(states, clock if self.event_clock else NEG_INF)
        states.touched.clear()

    def end_alert(self, entity: str, alert_id: str) -> bool:
        """The workflow ended this alert: the entity's next firing raises a new one. The changed
        state goes out with the next table write."""
        if self.engine.end_alert(entity, alert_id):
            self.dirty.add(entity)
            return True
        return False

    # -- input ---------------------------------------------------------------------------------------

    def receive(self, message: dict, token) -> None:
        """Queue a by-entity message's records (those not applied before) and take its ticks.
        `token.pending` counts the records still to apply (streams/acks.py)."""
        books = self.books
        for record in message.get("r", ()):
            ref, t, sp, so, _doc = record
            book = books.get(ref)
            if book is not None and book["m"].get(sp, -1) >= so:
                continue
            token.pending += 1
            self._seq += 1
            if self.event_clock:
                heapq.heappush(self.pending, (t, sp, so, self._seq, record, token))
            else:
                self.arrivals.append((record, token))
        ticks = message.get("k")
        if ticks:
            self.watermark.update(message.get("n"), ticks)

    @property
    def waiting(self) -> int:
        return len(self.pending) + len(self.arrivals)

    # -- applying ------------------------------------------------------------------------------------

    def flush(self, now: float) -> Flushed:
        """Apply what may be applied now; return the outputs (`state_writes` has the table values)."""
        engine = self.engine
        applied = 0
        if self.event_clock:
            low = self.watermark.low()
            pending = self.pending
            while pending and pending[0][0] < low:
                first = heapq.heappop(pending)
                group = [first]
                while pending and pending[0][:3] == first[:3]:
                    group.append(heapq.heappop(pending))
                applied += self._apply(first[0], group)
            if low == INF:
                end = self.watermark.end()
                if end is not None and end != self._finished_at:
                    log.debug("all sources caught up: finishing", extra={"partition": self.partition, "end": end,
                                                                        "ticks": self.watermark.ticks})
                    engine.finish(end)
                    self._finished_at = end
            elif low > NEG_INF:
                engine.advance(low)
        else:
            engine.advance(now)
            if now > engine.clock:
                engine.clock = now
            arrivals = self.arrivals
            while arrivals:
                record, token = arrivals.popleft()
                applied += self._apply(record[1], [(record[1], record[2], record[3], 0, record, token)])
        out = self._collect()
        out.applied = applied
        return out

    def state_writes(self) -> list[tuple[bytes, bytes]]:
        """The entity-state table values changed since the last call (then the engine clock, which is
        written last: once it is stored, everything before it is). Written before the messages whose
        records made these changes are acked; outputs are sent before either."""
        states, books, written = self.states, self.books, self._written
        out = []
        for ref in self.dirty:
            book = books.get(ref)
            state = dict.get(states, ref)
            if book is None:
                if state is None:
                    continue
                book = books[ref] = {"m": {}, "e": 0}
            value = codec.dumps({"s": state, "m": book["m"], "e": book["e"]}, option=codec.NON_STR_KEYS)
            key = ref.encode("utf-8")
            if written.get(key) != value:
                written[key] = value
                out.append((key, value))
        self.dirty = set()
        clock = self.engine.clock
        if out and clock > NEG_INF:
            key, value = clock_key(self.partition), codec.dumps({"clock": clock})
            if written.get(key) != value:
                written[key] = value
                out.append((key, value))
        return out

    def _apply(self, t: float, group: list) -> int:
        """Apply one source message's records (same t, source partition and offset)."""
        books = self.books
        refs = set()
        sp = so = doc = None
        for _, sp, so, _, record, token in group:
            token.pending -= 1
            ref = record[0]
            book = books.get(ref)
            if book is None:
                book = books[ref] = {"m": {}, "e": 0}
            elif book["m"].get(sp, -1) >= so:
                continue            # a second copy of a record applied just now
            refs.add(ref)
            doc = record[4]
        if not refs:
            return 0
        assert doc is not None          # set with the first ref
        self.engine.process(codec.event_of(t, doc), only=refs)
        for ref in refs:
            books[ref]["m"][sp] = so
        self.states.touched.update(refs)
        return len(refs)

    def _collect(self) -> Flushed:
        out = Flushed()
        engine, books, states = self.engine, self.books, self.states
        area = self.cfg.area
        emitted: set[str] = set()
        for record in engine.drain():
            if isinstance(record, Contribution):
                out.contributions.append(record)
            else:
                out.alerts.append(record)
            emitted.add(record.entity)
        touched = states.touched
        for ref in emitted:
            book = books.get(ref)
            if book is None:
                book = books[ref] = {"m": {}, "e": 0}
            state = dict.get(states, ref)
            building = state["b"] if state is not None else None
            if book["e"] == 0 or (book["e"] == 1 and building is not None):
                book["e"] = 2 if building is not None else 1
                out.entities.append(EntityRecord(ref, building, area.multiplier(ref, building)))
        for ref in touched - emitted:
            book = books.get(ref)
            if book is not None and book["e"] == 1:
                state = dict.get(states, ref)
                building = state["b"] if state is not None else None
                if building is not None:
                    book["e"] = 2
                    out.entities.append(EntityRecord(ref, building, area.multiplier(ref, building)))
        self.dirty |= touched
        self.dirty |= emitted
        touched.clear()
        return out
