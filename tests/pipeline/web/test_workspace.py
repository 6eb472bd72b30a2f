"""The analyst's workspace over SQLite with the cases scenario of
tests/pipeline/cases: log in once (analyst or admin; leaders and viewers are refused), the leaders'
caseloads, the brief of a week as a page with its xlsx and PDF, case pages (history, notes, 转办),
decisions recorded and marked done, ledger upload (dry-run report, then import); CSRF, headers,
and a workspace POST without a session refused before its body is read."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pipeline import audit
from pipeline.auth import create_token
from tests.pipeline.cases.casekit import at, scenario_events, store
from tests.pipeline.ledgers.ledgerkit import csv_bytes
from tests.pipeline.web.pagekit import BASE, SECRET
from tests.pipeline.web.test_pages import form_value, login

NOW = at(22, 10)      # Friday of 2024-W47


@pytest.fixture
def ws(engine, config):
    from pipeline.api.app import create_app
    from pipeline.web.links import Keys
    from pipeline.web.pages import mount

    store(str(engine.url), config, scenario_events(), until=at(22))
    app = create_app(engine, config.assignments, lambda: NOW)
    mount(app, config, Keys.from_secret(SECRET), public_url=BASE)
    client = TestClient(app)
    analyst = create_token(engine, "analyst-1", "analyst")
    return client, engine, analyst


def enter(client, token) -> None:
    done = login(client, token)
    assert done.status_code == 303 and done.headers["location"] == "/w"


def test_only_analysts_and_admins_enter(ws):
    client, engine, analyst = ws
    assert client.get("/w", follow_redirects=False).headers["location"] == "/login"
    leader = create_token(engine, "leader-L01", "leader", leader_id="L01")
    assert login(client, leader).headers["location"] == "/alerts"
    assert client.get("/w", follow_redirects=False).status_code == 303          # a leader is sent to log in
    assert login(client, create_token(engine, "viewer-1", "viewer")).status_code == 403
    enter(client, analyst)
    home = client.get("/w")
    assert home.status_code == 200 and "研判工作台" in home.text
    assert "default-src 'none'" in home.headers["content-security-policy"] and home.headers["cache-control"] == "no-store"
    assert "<script" not in home.text.lower()


def test_caseloads_and_the_brief_of_a_week(ws):
    client, engine, analyst = ws
    enter(client, analyst)
    home = client.get("/w").text
    # L02: HZ-A (building 2, overdue); L04: disputes MD-1, MD-2 (overdue) and the person case of P-0201
    assert "2号楼包保领导（L02）" in home and "矛盾纠纷调解专班负责人（L04）" in home
    brief = client.get("/w/brief?week=2024-W47")
    assert brief.status_code == 200
    text = brief.text
    assert "2024年第47周" in text and "本周概况" in text and "逾期未办结" in text and "按包保领导" in text
    for ref in ("hazard:HZ-A", "hazard:HZ-B", "dispute:MD-1", "dispute:MD-2"):
        assert f'href="/w/c/{ref}"' in text, ref
    assert "hazard:HZ-C" in text and "hazard:HZ-D" not in text        # closed in W47: in 办结; W45: absent
    assert client.get("/w/brief?week=2024-W99").status_code == 404
    xlsx = client.get("/w/brief/2024-W47.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "weekly-review-2024-W47.xlsx" in xlsx.headers["content-disposition"]
    pdf = client.get("/w/brief/2024-W47.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    exports = audit.list_records(engine, action=audit.EXPORT)
    assert [(r.actor, r.detail["formats"]) for r in exports] == [("analyst-1", ["xlsx"]), ("analyst-1", ["pdf"])]
    assert client.get("/w/brief/2024-W47.docx").status_code == 404


def test_case_page_notes_reassign_and_decisions(ws):
    client, engine, analyst = ws
    enter(client, analyst)
    page = client.get("/w/c/hazard:HZ-A")
    assert page.status_code == 200
    assert "发现隐患" in page.text and "已逾期" in page.text and "2号楼包保领导（L02）" in page.text
    csrf = form_value(page.text, "csrf", 1)                  # form 0 is the logout form
    note = client.post("/w/c/hazard:HZ-A/note", data={"csrf": csrf, "kind": "measure", "text": "已通知物业限期清理"})
    assert note.status_code == 200 and "处置记录已保存" in note.text and "已通知物业限期清理" in note.text
    blank = client.post("/w/c/hazard:HZ-A/reassign", data={"csrf": csrf, "to": "L03", "reason": " "})
    assert blank.status_code == 422
    moved = client.post("/w/c/hazard:HZ-A/reassign", data={"csrf": csrf, "to": "L03", "reason": "涉及消防设施，转消防专班"})
    assert moved.status_code == 200 and "转办给 消防安全专班负责人（L03）" in moved.text
    decided = client.post("/w/c/hazard:HZ-A/decision", data={"csrf": csrf, "text": "本周五前完成整改并复查",
                                                              "owner": "L03", "due": "2024-11-20", "week": "2024-W47"})
    assert decided.status_code == 200 and "研判意见已记录" in decided.text
    bad_date = client.post("/w/c/hazard:HZ-A/decision", data={"csrf": csrf, "text": "x", "owner": "L03", "due": "下周"})
    assert bad_date.status_code == 422 and "日期格式" in bad_date.text
    # the hazard cannot be closed by hand; CSRF is required; another case's token is refused
    assert 'id="closecase"' not in moved.text
    assert client.post("/w/c/hazard:HZ-A/note", data={"text": "x"}).status_code == 403
    other = form_value(client.get("/w/c/dispute:MD-1").text, "csrf", 1)
    assert client.post("/w/c/hazard:HZ-A/note", data={"csrf": other, "text": "x"}).status_code == 403
    decisions = client.get("/w/decisions")
    assert "逾期未落实" in decisions.text and "本周五前完成整改并复查" in decisions.text
    dcsrf = form_value(decisions.text, "csrf", 2)
    with engine.connect() as conn:
        did = conn.execute(sa.text("SELECT id FROM decisions")).scalar_one()
    done = client.post(f"/w/decisions/{did}/done", data={"csrf": dcsrf, "note": "已整改，复查合格"})
    assert done.status_code == 200 and "已标记为落实" in done.text and "已落实" in done.text
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT action, actor, owner FROM case_actions ORDER BY id")).all()
        decided_rows = conn.execute(sa.text("SELECT owner, done_by, done_note FROM decisions")).all()
    assert [tuple(r) for r in rows] == [("note", "analyst-1", None), ("reassign", "analyst-1", "L03")]
    assert [tuple(r) for r in decided_rows] == [("L03", "analyst-1", "已整改，复查合格")]
    assert client.get("/w/c/hazard:nope").status_code == 404


def test_a_workspace_post_without_a_session_is_refused_before_its_body(ws):
    client, _, _ = ws
    response = client.post("/w/ledgers/check", content=b"x" * (2 * 1024 * 1024),
                           headers={"Content-Type": "multipart/form-data; boundary=zz"})
    assert response.status_code == 401
    assert client.post("/w/c/hazard:HZ-A/note", data={"text": "x"}).status_code == 401
    huge = client.post("/w/ledgers/check", content=b"x", headers={"Content-Length": str(64 * 1024 * 1024)})
    assert huge.status_code == 413


HEADER = ["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "地点", "隐患描述"]


def test_ledger_upload_dry_run_then_import(ws):
    client, engine, analyst = ws
    enter(client, analyst)
    form = client.get("/w/ledgers")
    assert form.status_code == 200 and "安全隐患排查整改台账" in form.text
    csrf = form_value(form.text, "csrf", 1)
    good = [["HZ-L1", "2024-11-18", "2024-11-25", "消防", "1号楼", "", "楼道堆放杂物"],
            ["HZ-L2", "2024/11/19", "2024年11月26日", "用电", "2", "", "飞线充电"]]
    bad = ["HZ-L3", "昨天", "2024-11-30", "消防", "9号楼", "", "x"]
    data = csv_bytes([["安全隐患排查整改台账"], HEADER, *good, bad])
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
    report = client.post("/w/ledgers/check", data={"csrf": csrf, "kind": "hazards"},
                         files={"file": ("隐患台账.csv", data, "text/csv")})
    assert report.status_code == 200, report.text[-2000:]
    text = report.text
    assert "检查结果" in text and "<dd>3 行</dd>" in text and "<dd>1 行</dd>" in text
    errors = text[text.index('id="errors"'):]
    assert "<td>隐患台账.csv</td><td class=\"num\">5</td><td>发现日期</td>" in errors    # row 5 as the sheet shows it
    assert "楼栋" in errors and "9号楼" in errors
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == before       # a dry run
    upload = form_value(text, "upload", 1)
    icsrf = form_value(text, "csrf", 1)
    refused = client.post("/w/ledgers/import", data={"csrf": icsrf, "upload": upload})
    assert refused.status_code == 200 and "整个文件未导入" in refused.text
    # the file was used: upload again, import skipping the bad row
    again = client.post("/w/ledgers/check", data={"csrf": csrf, "kind": "hazards"},
                        files={"file": ("隐患台账.csv", data, "text/csv")}).text
    done = client.post("/w/ledgers/import", data={"csrf": form_value(again, "csrf", 1),
                                                  "upload": form_value(again, "upload", 1), "skip_bad": "true"})
    assert done.status_code == 200 and "已导入 2 条新事件" in done.text
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar() == before + 2
    [record] = audit.list_records(engine, action="ledger_import")
    assert record.actor == "analyst-1" and {k: record.detail[k] for k in ("kind", "rows", "new", "skipped_rows")} == {
        "kind": "hazards", "rows": 3, "new": 2, "skipped_rows": 1}
    assert "隐患台账" not in str(record.detail)
    assert client.post("/w/ledgers/import", data={"csrf": icsrf, "upload": upload}).status_code == 410
    wrong = client.post("/w/ledgers/check", data={"csrf": csrf, "kind": "hazards"},
                        files={"file": ("notes.txt", b"hello", "text/plain")})
    assert wrong.status_code == 422 and ".xlsx 或 .csv" in wrong.text


def test_closing_a_person_case_with_open_work_is_refused_in_chinese(ws):
    client, engine, analyst = ws
    enter(client, analyst)
    page = client.get("/w/c/person:P-0201")
    assert page.status_code == 200 and 'id="closecase"' in page.text and "一人一案" in page.text
    csrf = form_value(page.text, "csrf", 1)
    refused = client.post("/w/c/person:P-0201/close", data={"csrf": csrf, "reason": "已稳控"})
    assert refused.status_code == 409 and "该人员仍有未办结的预警或纠纷" in refused.text
    hazard = client.get("/w/c/hazard:HZ-A")
    assert 'id="closecase"' not in hazard.text                 # hazards close by their events only
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM case_actions")).scalar() == 0
