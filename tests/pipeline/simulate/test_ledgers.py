"""The simulator's hazard ledger imports cleanly, one row per hazard found, with the simulator's
hazard ids and deadlines (what `make demo` shows)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import orjson

from pipeline.ledgers.importer import import_ledger
from pipeline.simulate.ledgers import hazard_ledger


def test_the_simulated_hazard_ledger_imports(week, engine, config):
    sim, records = week
    lines = [r.line for r in records] + [b"{not json", b'{"kind": "hazard", "attributes": {"hazard_id": 3}}']
    data = hazard_ledger(lines, ZoneInfo(config.area.timezone))
    docs = [orjson.loads(r.line) for r in records]
    found = {d["attributes"]["hazard_id"] for d in docs if d["kind"] == "hazard" and d["type"] == "found"}
    report = import_ledger(data, "隐患台账.xlsx", "hazards", cfg=config, engine=engine, actor="test")
    assert report.errors == [] and report.rows == len(found) > 0
    again = import_ledger(data, "隐患台账.xlsx", "hazards", cfg=config, engine=engine, actor="test")
    assert again.new == 0 and again.existing == report.events
