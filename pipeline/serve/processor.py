"""The engine loop of `riskwatch serve`: the accept log in, contributions, alerts and state out.

Each step reads the next inbox rows in seq order (pipeline/serve/inbox.py), applies them to the
engine (a row whose event_id was accepted earlier is a duplicate: counted in `duplicates`, never
scored, as in replay and the stream) and stores the outputs, the changed engine state and the new
processed position in ONE transaction. A crash between steps loses only work that was not stored;
the restart loads the state and the position of the last stored step and applies the same rows
again, so nothing is lost or counted twice and alert ids (a hash of entity and time) repeat exactly.

Clocks (docs/contract.md §4): `wall` (default) moves the engine clock to the wall clock before each
step, so absence deadlines and the like fire on time even without traffic, and on start every
deadline that fell due while the process was down. `event` uses the greatest occurred_at; when the
loop has caught up with the inbox it finishes as replay does at the end of its input (deadlines due
by then fire), so events posted in a file's order give exactly `riskwatch replay`'s rows.

Alerts the leader's workflow resolved or closed are looked up every ALERT_POLL_EVERY seconds and
forgotten by the engine (docs/contract.md §5: the next firing raises a new alert).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import cast

import sqlalchemy as sa

from pipeline.configset import ConfigSet
from pipeline.contract import Event
from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution, Engine
from pipeline.serve.inbox import InboxRow, InboxWriter
from pipeline.serve.state import StateStore
from pipeline.storage import models as m
from pipeline.storage.ingest_tables import INBOX_POSITION_TOPIC
from pipeline.storage.rows import EntityRecord
from pipeline.timeutil import parse_time

log = logging.getLogger("riskwatch.serve")
ALERT_POLL_EVERY = 5.0
ENDED_STATUSES = ("resolved", "closed")
ALERTS = cast(sa.Table, m.Alert.__table__)
POSITIONS = cast(sa.Table, m.ProcessedPosition.__table__)


class Processor:
    def __init__(self, writer: InboxWriter, cfg: ConfigSet, clock: str = "wall", batch: int = 500,
                 wall: Callable[[], float] = time.time):
        self.writer = writer
        self.cfg = cfg
        self.event_clock = clock == "event"
        self.batch = batch
        self.wall = wall
        self.engine = Engine(cfg.rules, cfg.area, cfg.assignments)
        self.store = StateStore()
        self.marks: dict[str, int] = {}
        self.next_seq = 1
        self.loaded = False
        self._finished_at: float | None = None
        self._polled = float("-inf")

    def start(self) -> None:
        """(Re)load the stored engine state and position (a fresh database starts empty)."""
        store = StateStore()
        query = sa.select(POSITIONS.c.next_offset).where(POSITIONS.c.topic == INBOX_POSITION_TOPIC,
                                                         POSITIONS.c.partition == 0)
        (states, marks, clock), position = self.writer.run(
            lambda conn: (store.load(conn), conn.execute(query).scalar_one_or_none()))
        self.engine = Engine(self.cfg.rules, self.cfg.area, self.cfg.assignments)
        self.engine.restore(states, clock)
        self.store, self.marks, self.next_seq = store, marks, position or 1
        self._finished_at = None
        self.loaded = True
        log.info("engine state loaded: %d entities, next inbox seq %d", len(states), self.next_seq)

    def step(self) -> int:
        """One step; returns the number of inbox rows applied (0 when caught up)."""
        if not self.loaded:
            self.start()
        rows = self.writer.read(self.next_seq, self.batch)
        engine = self.engine
        if not self.event_clock:
            now = self.wall()
            engine.advance(now)
            if now > engine.clock:
                engine.clock = now
        duplicates: list[InboxRow] = []
        for row in rows:
            if row.first_seq != row.seq:
                duplicates.append(row)
                continue
            doc = row.doc
            engine.process(Event(row.event_id, doc["kind"], doc["type"],
                                 parse_time(doc["occurred_at"]).timestamp(), doc))
        if self.event_clock and len(rows) < self.batch and engine.clock != self._finished_at:
            engine.finish()
            self._finished_at = engine.clock
        self._forget_ended_alerts()
        contributions, alerts, entities = self._outputs()
        next_seq = rows[-1].seq + 1 if rows else None
        changed = self.store.prepare(engine.entities, self.marks, engine.clock, with_clock=bool(rows))
        if rows or contributions or alerts or entities or changed:
            self.writer.write_step(contributions, alerts, entities, duplicates, next_seq, self.store.write)
            self.store.committed()
        if next_seq is not None:
            self.next_seq = next_seq
        return len(rows)

    def run(self, stop: threading.Event, wake: threading.Event, idle: float = 1.0) -> None:
        """Steps until `stop`; when caught up, waits for `wake` (an accept) or `idle` seconds (the
        wall clock's deadlines). A failed step is logged and retried: no input stops the loop."""
        while not stop.is_set():
            try:
                applied = self.step()
            except Exception:  # noqa: BLE001 - the loop outlives a database outage; the step is redone
                log.exception("engine step failed; reloading the stored state and retrying")
                self.loaded = False   # the engine in memory may be ahead of the database
                stop.wait(1.0)
                continue
            if applied < self.batch:
                wake.wait(idle)
                wake.clear()

    def _outputs(self) -> tuple[list[Contribution], list[AlertChange], list[EntityRecord]]:
        contributions: list[Contribution] = []
        alerts: list[AlertChange] = []
        emitted: set[str] = set()
        for record in self.engine.drain():
            if type(record) is Contribution:
                contributions.append(record)
            else:
                alerts.append(record)  # type: ignore[arg-type]
            emitted.add(record.entity)
        entities: list[EntityRecord] = []
        states, marks, area = self.engine.entities, self.marks, self.cfg.area
        for ref in emitted | {r for r, e in marks.items() if e == 1}:
            state = states.get(ref)
            building = state["b"] if state is not None else None
            mark = marks.get(ref, 0)
            if mark == 0 or (mark == 1 and building is not None):
                marks[ref] = 2 if building is not None else 1
                entities.append(EntityRecord(ref, building, area.multiplier(ref, building)))
        return contributions, alerts, entities

    def _forget_ended_alerts(self) -> None:
        now = time.monotonic()
        if now - self._polled < ALERT_POLL_EVERY:
            return
        self._polled = now
        open_ids = {state["a"]["id"]: ref for ref, state in self.engine.entities.items() if state["a"] is not None}
        if not open_ids:
            return
        query = sa.select(ALERTS.c.alert_id).where(ALERTS.c.alert_id.in_(sorted(open_ids)),
                                                   ALERTS.c.status.in_(ENDED_STATUSES))
        for alert_id in self.writer.run(lambda conn: conn.execute(query).scalars().all()):
            self.engine.end_alert(open_ids[alert_id], alert_id)
