"""The engine state of `riskwatch serve` in the database (table `serve_state`).

One row per entity: {"s": engine state | None, "e": 0|1|2}, where "e" says whether the entity's row
was stored (1: without a building, 2: with one), so a building learnt later still reaches it, as
replay's end-of-run entity rows have it. One row "~clock" holds the engine clock. Rows change only
inside the transaction that stores the outputs and the processed position they belong to
(InboxWriter.write_step), so what a restart loads is exactly the state after the last stored step.

Each step compares every entity's serialised value with what was last written and writes only the
changed ones: at this area's size (hundreds to a few thousand entities, ~2 KB each) serialising all
of them costs a few milliseconds, less than tracking every read.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipeline.storage.ingest_tables import STATE

CLOCK_KEY = "~clock"
NEG_INF = float("-inf")
_OPTIONS = orjson.OPT_NON_STR_KEYS


class StateStore:
    def __init__(self) -> None:
        self._written: dict[str, bytes] = {}
        self._pending: tuple[list[dict], list[str]] = ([], [])

    def load(self, conn: sa.Connection) -> tuple[dict[str, dict], dict[str, int], float]:
        """(entity states, stored-row marks, engine clock) as last committed."""
        states: dict[str, dict] = {}
        marks: dict[str, int] = {}
        clock = NEG_INF
        for key, value in conn.execute(sa.select(STATE.c.key, STATE.c.value)).all():
            value = bytes(value)
            self._written[key] = value
            data = orjson.loads(value)
            if key == CLOCK_KEY:
                clock = NEG_INF if data["clock"] is None else float(data["clock"])
                continue
            marks[key] = data["e"]
            if data["s"] is not None:
                states[key] = data["s"]
        return states, marks, clock

    def prepare(self, states: dict[str, dict], marks: dict[str, int], clock: float, with_clock: bool) -> bool:
        """Compute the rows that changed since the last write; True when there are any. The clock is
        written with entity changes, or when `with_clock` (the processed position moves)."""
        written = self._written
        upserts: list[dict] = []
        current: set[str] = set()
        for ref in states.keys() | marks.keys():
            value = orjson.dumps({"s": states.get(ref), "e": marks.get(ref, 0)}, option=_OPTIONS)
            current.add(ref)
            if written.get(ref) != value:
                upserts.append({"key": ref, "value": value})
        deletes = [key for key in written if key != CLOCK_KEY and key not in current]
        if upserts or deletes or with_clock:
            value = orjson.dumps({"clock": None if clock == NEG_INF else clock})
            if written.get(CLOCK_KEY) != value:
                upserts.append({"key": CLOCK_KEY, "value": value})
        self._pending = (upserts, deletes)
        return bool(upserts or deletes)

    def write(self, conn: sa.Connection) -> None:
        """Write the prepared rows (inside the step's transaction)."""
        upserts, deletes = self._pending
        if deletes:
            conn.execute(STATE.delete().where(STATE.c.key.in_(deletes)))
        if upserts:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(STATE)
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}),
                         upserts)

    def committed(self) -> None:
        """The step's transaction committed: its rows are now what the database holds."""
        upserts, deletes = self._pending
        for row in upserts:
            self._written[row["key"]] = row["value"]
        for key in deletes:
            self._written.pop(key, None)
        self._pending = ([], [])
