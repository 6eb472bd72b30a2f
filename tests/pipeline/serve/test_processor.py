"""The engine loop of `riskwatch serve` over its accept log: replay's rows in event-clock mode, the
same rows after restarts at any step, duplicates counted once, deadlines due while down fire on start."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from pipeline.contract import Event, parse_event
from pipeline.replay import read_lines, replay
from pipeline.serve.inbox import InboxWriter
from pipeline.serve.processor import Processor
from pipeline.storage.db import open_database
from pipeline.storage.replay_store import open_replay_store
from tests.pipeline.serve.servekit import backlog, stored_rows

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = [DATA / "scenario_day.jsonl", DATA / "replay_small.jsonl"]


def accepted_in_order(path: Path, config) -> list[Event]:
    out = []
    for line in read_lines(path):
        if line.strip():
            parsed = parse_event(line, config.vocabulary)
            if isinstance(parsed, Event):
                out.append(parsed)
    return out


def replay_rows(path: Path, config, url: str) -> dict:
    engine = open_database(url)
    engine.dispose()
    result = replay(read_lines(path), config, keep_events=True)
    open_replay_store(url, config)(result, source=path)
    engine = open_database(url)
    try:
        return stored_rows(engine)
    finally:
        engine.dispose()


def run_to_end(processor: Processor, limit: int = 1000) -> None:
    for _ in range(limit):
        if processor.step() == 0:
            return
    raise AssertionError("the engine loop did not catch up")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_event_clock_gives_replays_rows(path, config, engine, tmp_path):
    writer = InboxWriter(engine)
    events = accepted_in_order(path, config)
    for i in range(0, len(events), 4):          # several requests
        writer.accept(events[i:i + 4])
    run_to_end(Processor(writer, config, clock="event", batch=3))
    assert backlog(engine) == 0
    assert stored_rows(engine) == replay_rows(path, config, f"sqlite:///{tmp_path / 'replay.db'}")


@pytest.mark.parametrize("stop_after", [1, 2, 5])
def test_restarts_between_steps_give_the_same_rows(stop_after, config, engine, tmp_path):
    path = FILES[0]
    writer = InboxWriter(engine)
    events = accepted_in_order(path, config)
    writer.accept(events[:10])
    first = Processor(writer, config, clock="event", batch=2)
    for _ in range(stop_after):
        first.step()
    writer.accept(events[10:])
    run_to_end(Processor(writer, config, clock="event", batch=2))   # a new process: loads state and position
    assert stored_rows(engine) == replay_rows(path, config, f"sqlite:///{tmp_path / 'replay.db'}")


def test_a_step_that_fails_before_its_commit_is_redone_from_the_stored_state(config, engine, tmp_path, monkeypatch):
    path = FILES[0]
    writer = InboxWriter(engine)
    writer.accept(accepted_in_order(path, config))
    processor = Processor(writer, config, clock="event", batch=4)
    processor.step()
    real = writer.write_step
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is gone"))
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "write_step", failing)
    with pytest.raises(sa.exc.OperationalError):
        for _ in range(3):
            processor.step()
    processor.loaded = False           # what run() does after a failed step
    run_to_end(processor)
    assert stored_rows(engine) == replay_rows(path, config, f"sqlite:///{tmp_path / 'replay.db'}")


def test_duplicates_are_counted_once_and_never_scored(config, engine):
    writer = InboxWriter(engine)
    events = accepted_in_order(FILES[0], config)[:5]
    writer.accept(events)
    writer.accept(events[:2])
    run_to_end(Processor(writer, config, clock="event"))
    with engine.connect() as conn:
        dups = conn.execute(sa.text("SELECT event_id, position, first_position FROM duplicates ORDER BY position")).all()
        n_events = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    assert [(d.event_id, d.position, d.first_position) for d in dups] == [
        (events[0].event_id, 6, 1), (events[1].event_id, 7, 2)]
    assert n_events == 5


def hazard(event_id: str, t: float) -> Event:
    from pipeline.timeutil import format_utc

    doc = {"event_id": event_id, "kind": "hazard", "type": "found", "occurred_at": format_utc(t), "source": "patrol-app",
           "location": {"id": "HD-1-0101", "building": "1"}, "attributes": {"hazard_id": "H-1"}}
    parsed = parse_event(orjson.dumps(doc), config_vocab())
    assert isinstance(parsed, Event)
    return parsed


def config_vocab():
    from pipeline.configset import load_config

    return load_config().vocabulary


def test_wall_clock_deadlines_that_fell_due_while_down_fire_on_start(config, engine):
    now = time.time()
    writer = InboxWriter(engine)
    writer.accept([hazard("h-1", now - 2 * 86400)])      # overdue after 3 days without rectification
    run_to_end(Processor(writer, config, clock="wall", wall=lambda: now))

    def overdue() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM contributions WHERE rule = 'hazard-overdue'")).scalar_one()

    assert overdue() == 0
    # down for two days: the first step of the next process fires the deadline (and one repeat)
    later = Processor(writer, config, clock="wall", wall=lambda: now + 2 * 86400 + 60)
    later.step()
    assert overdue() == 2
    Processor(writer, config, clock="wall", wall=lambda: now + 2 * 86400 + 120).step()
    assert overdue() == 2                                  # a second restart fires nothing twice
