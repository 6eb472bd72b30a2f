"""Helpers for the storage tests (SQLite here, PostgreSQL in tests/integration/test_storage_pg.py).

Events: the simulator's when this build has it, else a hand-written mix. Both give accepted events
of many kinds, rejections (malformed lines), duplicates, contributions for
locations, checkpoints, buildings, persons and businesses, and alerts (raised and upgraded).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

CST = timezone(timedelta(hours=8))
START = datetime(2024, 11, 4, tzinfo=CST)


def write_events(path: Path, days: int = 3, seed: int = 3) -> Path:
    """Write a JSON Lines file of `days` days of events to `path` (simulator first, fallback second)."""
    try:
        from pipeline.simulate.command import simulate_command

        simulate_command(days, seed, str(path), None, 0.01, truth_dir=path.parent)
        if path.stat().st_size > 0:
            return path
    except (ImportError, TypeError):
        pass
    path.write_bytes(b"\n".join(hand_written(days, seed)) + b"\n")
    return path


def _event(n: int, t: datetime, kind: str, type_: str, **fields) -> dict:
    return {"event_id": f"e-{n:06d}", "kind": kind, "type": type_,
            "occurred_at": t.isoformat(timespec="seconds"), "source": fields.pop("source", "sensor-gw"), **fields}


def hand_written(days: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    lines: list[bytes] = []
    n = 0
    t = START
    end = START + timedelta(days=days)
    units = [f"HD-{b}-{f:02d}{u:02d}" for b in ("1", "2") for f in (3, 7, 12) for u in (1, 2, 3)]
    people = [f"P-{i:04d}" for i in range(1, 13)]
    while t < end:
        t += timedelta(minutes=rnd.randint(5, 40))
        n += 1
        b = rnd.choice(("1", "2"))
        unit = rnd.choice([u for u in units if u.startswith(f"HD-{b}-")])
        roll = rnd.random()
        if roll < 0.3:
            cp = f"CP-{b}-LOBBY"
            ev = _event(n, t, "patrol", "checkpoint_visit", source="patrol-app",
                        location={"id": f"HD-{b}-01-lobby", "building": b, "checkpoint": cp})
        elif roll < 0.5:
            ev = _event(n, t, "monitoring", "ebike_indoor_charging", location={"id": unit, "building": b})
        elif roll < 0.58:
            ev = _event(n, t, "monitoring", "smoke_alarm", location={"id": unit, "building": b}, severity=3)
        elif roll < 0.66:
            ev = _event(n, t, "monitoring", "fire_exit_blocked", location={"id": f"HD-{b}-05-corridor", "building": b})
        elif roll < 0.72:
            ev = _event(n, t, "monitoring", "access_forced", location={"id": f"HD-{b}-01-lobby", "building": b})
        elif roll < 0.9:
            a, c = rnd.sample(people, 2)
            tags = ["threat_of_violence"] if rnd.random() < 0.1 else []
            ev = _event(n, t, "dispute", rnd.choice(("reported", "reported", "escalated")), source="mediation",
                        location={"id": unit, "building": b}, tags=tags,
                        subjects=[{"type": "person", "id": a, "role": "party"},
                                  {"type": "person", "id": c, "role": "party"}])
        elif roll < 0.95:
            ev = _event(n, t, "hazard", "found", source="patrol-app", location={"id": unit, "building": b})
        else:
            ev = _event(n, t, "dispute", "reported", source="mediation", location={"id": f"HD-{b}-01-S01", "building": b},
                        subjects=[{"type": "business", "id": "B-001", "role": "party"}])
        lines.append(json.dumps(ev, ensure_ascii=False).encode())
        if n % 97 == 0:
            lines.append(b'{"event_id": "broken-' + str(n).encode() + b'", "kind": ')   # invalid_json
        if n % 131 == 0:
            lines.append(lines[-1] if not lines[-1].startswith(b'{"event_id": "broken') else lines[-2])  # duplicate
        if n % 151 == 0:
            lines.append(json.dumps({**ev, "event_id": f"x-{n}", "kind": "nope"}).encode())  # unknown_kind
        if n % 173 == 0:
            lines.append(b"\xff\xfe not utf-8")
    return lines


def dump_tables(engine) -> dict[str, list[tuple]]:
    """Every row of every riskwatch table, sorted, for comparing two states of a database."""
    import sqlalchemy as sa

    from pipeline.storage.schema import tables

    out = {}
    with engine.connect() as conn:
        for table in tables():
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(json.dumps(v, sort_keys=True, default=str) for v in row) for row in rows))
    return out
