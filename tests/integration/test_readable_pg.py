"""What users read shows no raw code, slug or English word where a Chinese word exists, on a
simulated month in PostgreSQL: every dashboard panel's rows, the weekly xlsx and PDF, the notices, and the
CLI tables (alerts, audit log, explain).

Identifiers stay as they are (pseudonymous persons P-0101, places HD-1-1203, cases MD-2024-0001, event and
device ids): they are handles, not words. Free text written by people (event notes) is not scanned."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dashboards import catalog
from dashboards.macros import TimeRange
from dashboards.queryrun import run_dashboard
from pipeline import labels
from pipeline.cli import app
from pipeline.configset import load_config
from pipeline.replay import read_lines, replay
from pipeline.storage.db import make_engine
from pipeline.storage.replay_store import open_replay_store
from tests.integration import pgkit

pytestmark = pytest.mark.integration

# Handles, not words: P-0101, HD-2-09-corridor, CP-1-F06, MD-2024-0001, sim-7-0001234, USD-1-1203, 2024-W45.
IDENTIFIER = re.compile(r"\b[A-Za-z]{1,6}(?:-[0-9A-Za-z]+)+\b|\b[0-9]{4}-W[0-9]{2}\b|\b[0-9a-f]{16}\b")
REF = re.compile(r"\b(?:location|person|business|building|checkpoint|hazard|dispute|alert):\S+")
ENGLISH = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
# ASCII words that are the Chinese usage itself (巡查App, Webhook 接口) or units and names.
ALLOWED = {"App", "Webhook", "riskwatch", "KiB", "JSON", "PDF", "pdf", "xlsx"}
# A case's number is its ref (hazard:HZ-2024-0004): the handle `decisions add --case` takes.
HANDLES = {"案件编号"}
FREE_TEXT = {"说明", "原因", "简要情况", "隐患描述", "主要原因", "备注", "处置措施", "进展", "研判意见", "落实情况",
             "关闭原因", "最新进展"}


def offending(text: str) -> list[str]:
    """The codes and English words in `text` (identifiers removed first)."""
    found = REF.findall(text)
    rest = IDENTIFIER.sub(" ", REF.sub(" ", text))
    found += [w for w in ENGLISH.findall(rest) if w not in ALLOWED]
    return found


@pytest.fixture(scope="module")
def month(pg_url, tmp_path_factory):
    cfg = load_config()
    tmp = tmp_path_factory.mktemp("readable")
    events = tmp / "month.jsonl"
    assert CliRunner().invoke(app, ["simulate", "--days", "28", "--seed", "7", "--to", str(events)]).exit_code == 0
    with pgkit.scratch_database(pg_url, "readable") as url, pgkit.server_lock():
        engine = make_engine(url)
        try:
            replayed = replay(read_lines(events), cfg, keep_events=True)
            open_replay_store(url, cfg)(replayed, source=events)
            yield engine, url, cfg, tmp
        finally:
            engine.dispose()


def _last_week(engine) -> TimeRange:
    with engine.connect() as conn:
        last = conn.execute(sa.text("SELECT max(occurred_at) FROM events")).scalar()
    return TimeRange(last - timedelta(days=7), last)


def test_dashboards_show_no_codes(month):
    engine, _, cfg, _ = month
    problems = []
    for uid, dash in catalog.build_all(cfg).items():
        hidden = {o["matcher"]["options"] for p in dash["panels"] for o in p.get("fieldConfig", {}).get("overrides", [])
                  if o["properties"][0]["id"] == "custom.hidden"}
        _, results = run_dashboard(engine, dash, _last_week(engine))
        for res in results:
            for row in res.rows:
                for column, value in zip(res.columns, row, strict=True):
                    if isinstance(value, str) and column not in hidden and column not in FREE_TEXT | HANDLES:
                        problems += [(uid, res.title, column, value, w) for w in offending(value)]
    assert problems == [], sorted({p[:2] + p[-1:] for p in problems})


def test_weekly_xlsx_and_pdf_show_no_codes(month):
    import openpyxl

    engine, url, cfg, tmp = month
    week = _last_week(engine).end.astimezone(labels.BEIJING).date().isoformat()
    out = tmp / "weekly"
    res = CliRunner().invoke(app, ["export", "weekly", "--week", week, "--db", url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    problems = []
    [xlsx] = out.glob("*.xlsx")
    book = openpyxl.load_workbook(xlsx, read_only=True)
    for ws in book.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = next((r for r in rows[1:3] if r and any(isinstance(c, str) for c in r)), ())
        for row in rows:
            for i, value in enumerate(row):
                column = header[i] if i < len(header) else None
                if isinstance(value, str) and column not in FREE_TEXT | HANDLES:
                    problems += [(ws.title, column, value, w) for w in offending(value)]
    [pdf] = out.glob("*.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    notes = {d["text"] for d in _docs(engine) if d.get("text")}
    for line in text.splitlines():
        if not any(n[:12] in line for n in notes):
            problems += [("pdf", line.strip(), w) for w in offending(line)]
    assert problems == [], sorted({p[:2] + p[-1:] for p in problems})


def _docs(engine) -> list[dict]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT doc FROM events WHERE doc ? 'text'"))]


def test_notices_show_no_codes(month):
    from pipeline.alerting.records import list_alerts
    from pipeline.notify.notices import Notice, Reason, Renderer

    engine, _, cfg, _ = month
    renderer = Renderer("http://grafana.invalid", {k: v.name for k, v in cfg.assignments.leaders.items()},
                        area=cfg.area)
    titles = {r.id: r.title for r in cfg.rules.rules}
    with engine.connect() as conn:
        alerts = list_alerts(conn, limit=50)
    assert alerts
    problems = []
    for kind in labels.NOTICE_KINDS:
        notices = [Notice(kind, a.alert_id, a.entity, a.level, a.score, a.raised_at, a.assignee,
                          tuple(Reason(titles[r], 30.0, a.raised_at) for r in a.rules),
                          {"to": "L05", "step": 1, "reason": "已处置", "actor": "L01"}) for a in alerts[:3]]
        message = renderer.message("m-1", "L01", notices)
        for text in (message.title, message.text, message.markdown):
            for line in text.splitlines():
                line = re.sub(r"https?://\S+", " ", line)
                problems += [(kind, line, w) for w in offending(line)]
    assert problems == [], sorted({p[:2] + p[-1:] for p in problems})


def test_cli_tables_show_no_codes(month):
    engine, url, _, _ = month
    runner = CliRunner()
    problems = []
    for args in (["alerts", "list"], ["audit", "list"], ["explain", "P-0101"]):
        res = runner.invoke(app, [*args, "--db", url])
        assert res.exit_code == 0, (args, res.output)
        notes = {d["text"][:12] for d in _docs(engine) if d.get("text")}
        for line in res.stdout.splitlines():
            if not any(n in line for n in notes):
                # the actor is an account (cli:<login>), not a word
                problems += [(args[0], line, w) for w in offending(re.sub(r"cli:\w+", " ", line))]
    assert problems == [], sorted({p[:2] + p[-1:] for p in problems})


def test_the_scanner_finds_what_it_must():
    assert offending("location:HD-2-09-corridor 高") == ["location:HD-2-09-corridor"]
    assert offending("状态 open，类型 neighbour_noise") == ["open", "neighbour_noise"]
    assert offending("重点人员 P-0101，2号楼9层走廊，MD-2024-0001，巡查App") == []
