"""A ledger imported inside `riskwatch serve` goes through serve's accept path: serve's engine scores
it after what it already holds, exactly as `riskwatch replay` of the same events in the same order."""

from __future__ import annotations

import threading
import warnings
from zoneinfo import ZoneInfo

import orjson
import pytest
import sqlalchemy as sa

from pipeline.api.app import create_app
from pipeline.auth import create_token
from pipeline.contract import Event, parse_event
from pipeline.ingest.sink import DatabaseSink
from pipeline.ledgers.importer import import_ledger
from pipeline.replay import replay
from pipeline.serve.inbox import InboxWriter
from pipeline.serve.ledger_sink import InboxSink
from pipeline.serve.processor import Processor
from pipeline.simulate import simulate
from pipeline.simulate.ledgers import hazard_ledger
from pipeline.storage.db import open_database
from pipeline.storage.replay_store import open_replay_store
from pipeline.web.links import Keys
from pipeline.web.pages import mount
from tests.pipeline.ledgers.ledgerkit import csv_bytes
from tests.pipeline.serve.servekit import backlog, stored_rows
from tests.pipeline.web.pagekit import BASE, SECRET
from tests.pipeline.web.test_pages import form_value, login

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def registry_key(monkeypatch) -> None:
    from pipeline.persons.keys import KEYS_ENV, new_key

    monkeypatch.setenv(KEYS_ENV, new_key())


def run_to_end(processor: Processor) -> None:
    for _ in range(1000):
        if processor.step() == 0:
            return
    raise AssertionError("the engine loop did not catch up")


def inbox_lines(engine: sa.Engine) -> list[bytes]:
    """The accepted events in the order serve's engine took them."""
    with engine.connect() as conn:
        docs = conn.execute(sa.text("SELECT e.doc FROM serve_inbox i JOIN events e ON e.event_id = i.event_id "
                                    "ORDER BY i.seq")).scalars().all()
    return [orjson.dumps(doc if isinstance(doc, dict) else orjson.loads(doc)) for doc in docs]


def test_an_imported_ledger_is_scored_by_serves_engine_after_its_state(config, engine, registry_key, tmp_path):
    records = list(simulate(7, 11, area=config.area).records())
    lines = [r.line for r in records]
    # serve has taken the week's other events over HTTP; the hazards come in as the office's ledger
    posted = [e for line in lines if type(e := parse_event(line, config.vocabulary)) is Event and e.kind != "hazard"]
    loop_writer = InboxWriter(engine, assignments=config.assignments)
    wake = threading.Event()
    accept = DatabaseSink(InboxWriter(engine, lock=loop_writer.lock, assignments=config.assignments), wake)
    for i in range(0, len(posted), 200):
        accept.accept_now(posted[i:i + 200])
    processor = Processor(loop_writer, config, clock="event")
    run_to_end(processor)
    wake.clear()

    data = hazard_ledger(lines, ZoneInfo(config.area.timezone))
    report = import_ledger(data, "隐患台账.xlsx", "hazards", cfg=config, engine=engine, actor="test",
                           sink=InboxSink(accept, config))
    assert report.errors == [] and report.new == report.events > 0
    assert wake.is_set()                     # the engine loop is woken, as after an HTTP accept
    assert backlog(engine) == report.events  # accepted, not yet scored: the import did not score them itself
    run_to_end(processor)
    assert backlog(engine) == 0

    url = f"sqlite:///{tmp_path / 'replay.db'}"
    open_database(url).dispose()
    all_lines = inbox_lines(engine)
    assert len(all_lines) == len(posted) + report.events
    open_replay_store(url, config)(replay(all_lines, config, keep_events=True), source=None)
    oracle = open_database(url)
    try:
        want = stored_rows(oracle)
    finally:
        oracle.dispose()
    got = stored_rows(engine)
    hazard_rules = {r[2] for r in got["contributions"] if "hazard" in r[2]}
    assert hazard_rules, "the ledger's hazards contribute"
    assert got == want


def test_a_dry_run_is_the_same_whatever_the_sink(config, engine, registry_key):
    lines = [r.line for r in simulate(3, 5, area=config.area).records()]
    data = hazard_ledger(lines, ZoneInfo(config.area.timezone))
    accept = DatabaseSink(InboxWriter(engine, assignments=config.assignments))
    by_inbox = import_ledger(data, "隐患台账.xlsx", "hazards", cfg=config, engine=engine, actor="test", dry_run=True,
                             sink=InboxSink(accept, config))
    by_replay = import_ledger(data, "隐患台账.xlsx", "hazards", cfg=config, engine=engine, actor="test", dry_run=True)
    assert by_inbox == by_replay and by_inbox.events > 0
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM serve_inbox")).scalar_one() == 0


def test_the_workspace_upload_under_serve_goes_to_the_accept_log(config, engine, registry_key):
    """The pages as serve mounts them: an uploaded ledger's events are accepted into serve_inbox for
    the engine loop, and the import writes no score of its own."""
    wake = threading.Event()
    accept = DatabaseSink(InboxWriter(engine, assignments=config.assignments), wake)
    app = create_app(engine, config.assignments)
    mount(app, config, Keys.from_secret(SECRET), public_url=BASE, ledger_sink=InboxSink(accept, config))
    client = TestClient(app)
    assert login(client, create_token(engine, "analyst-1", "analyst")).status_code == 303
    csrf = form_value(client.get("/w/ledgers").text, "csrf", 1)
    data = csv_bytes([["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "地点"],
                      ["YH-1", "2024-05-01", "2024-05-02", "消防", "1号楼", "1号楼消防泵房"],
                      ["YH-2", "2024-05-20", "2024-05-22", "消防", "1号楼", "1号楼消防泵房"]])
    checked = client.post("/w/ledgers/check", data={"csrf": csrf, "kind": "hazards"},
                          files={"file": ("隐患台账.csv", data, "text/csv")}).text
    done = client.post("/w/ledgers/import", data={"csrf": form_value(checked, "csrf", 1),
                                                  "upload": form_value(checked, "upload", 1)})
    assert done.status_code == 200 and "已导入 2 条新事件" in done.text
    with engine.connect() as conn:
        inbox = conn.execute(sa.text("SELECT count(*) FROM serve_inbox")).scalar_one()
        contributions = conn.execute(sa.text("SELECT count(*) FROM contributions")).scalar_one()
    assert (inbox, contributions) == (2, 0) and wake.is_set()
    run_to_end(Processor(InboxWriter(engine, assignments=config.assignments), config, clock="event"))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM contributions")).scalar_one() > 0
