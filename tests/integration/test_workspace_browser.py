"""The analyst's workspace in Chromium, over the simulated week of
test_alert_page_browser.py on PostgreSQL: at 1280×900 the analyst logs in once, reads the caseloads
and the brief of the week, opens a case from it and records a note, uploads a hazards ledger, reads
the dry-run report (rows, new events, the bad row) and imports it; then the same pages at 360×740
without sideways scrolling. Screenshots (tests/integration/shots.py): workspace-brief.png, workspace-ledger.png (desktop),
workspace-phone.png (360 px)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.integration.shots import screenshot_dir
from tests.integration.test_alert_page_browser import (  # noqa: F401 - fixtures used by name
    ROOT,
    WEEK_END,
    Served,
    browser_tools,
    kit,
    run_browser,
    week_db,
)
from tests.pipeline.ledgers.ledgerkit import csv_bytes

pytestmark = pytest.mark.integration

IMG = screenshot_dir()
SHOTS = {"brief": str(IMG / "workspace-brief.png"), "ledger": str(IMG / "workspace-ledger.png"),
         "phone": str(IMG / "workspace-phone.png")}


def test_analyst_workspace_in_chromium(browser_tools, week_db, tmp_path):  # noqa: F811 - the imported fixtures
    from pipeline.auth import create_token
    from pipeline.configset import load_config

    config = load_config()
    token = create_token(week_db, "analyst-1", "analyst")
    ledger = tmp_path / "隐患台账.csv"
    ledger.write_bytes(csv_bytes([
        ["安全隐患排查整改台账（2024年11月）"],
        ["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "地点", "隐患描述"],
        ["HZ-WS-1", "2024-11-06", "2024-11-08", "消防", "1号楼", "", "12层走廊堆放纸箱"],
        ["HZ-WS-2", "2024/11/7", "2024年11月20日", "用电", "2", "", "楼道飞线充电"],
        ["HZ-WS-3", "2024-11-07", "2024-11-09", "消防", "9号楼", "", "消防通道堵塞"],
    ]))
    with week_db.connect() as conn:
        events_before = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    served = Served(week_db, config, kit.FakeClock(WEEK_END + timedelta(hours=1)))
    try:
        result = run_browser(browser_tools, "workspace", {
            "base": served.base, "token": token, "week": "2024-W45", "ledger": str(ledger), "kind": "hazards",
            "note": "已约谈物业负责人，限期三日内整改", "shots": SHOTS})
    finally:
        served.close()
    desk, phone = result["desk"], result["phone"]
    assert desk["home"]["url"] == f"{served.base}/w" and "包保领导案件量" in desk["home"]["text"]
    for name in ("1号楼包保领导（L01）", "2号楼包保领导（L02）", "分管副主任（L05）"):
        assert name in desk["home"]["text"], name
    brief = desk["brief"]
    assert brief["status"] == 200 and "2024年第45周" in brief["text"]
    for heading in ("本周概况", "逾期未办结", "按包保领导", "研判意见落实情况", "本周新增与办结", "下载 Excel", "下载 PDF"):
        assert heading in brief["text"], heading
    assert brief["caseLinks"], "the brief lists the week's open cases"
    case = desk["case"]
    assert case["status"] == 200 and "处置经过" in case["text"] and "转办" in case["text"]
    noted = desk["noted"]
    assert noted["status"] == 200 and "处置记录已保存" in noted["text"] and "已约谈物业负责人，限期三日内整改" in noted["text"]
    report = desk["report"]
    assert report["status"] == 200 and "检查结果" in report["text"]
    for fact in ("数据行\n3 行", "有问题的行\n1 行", "9号楼"):
        assert fact in report["text"], fact
    imported = desk["imported"]
    assert imported["status"] == 200 and "已导入 2 条新事件" in imported["text"], imported["text"][:400]
    with week_db.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == events_before + 2
        notes = conn.execute(sa.text("SELECT actor, text FROM case_actions WHERE action = 'note'")).all()
    assert [tuple(n) for n in notes] == [("analyst-1", "已约谈物业负责人，限期三日内整改")]
    # at 360 px: every page fits the width (tables scroll inside their own box)
    for key in ("home", "brief", "case", "decisions", "ledgers"):
        page = phone[key]
        assert page["innerWidth"] == 360 and page["scrollWidth"] <= 360, (key, page["scrollWidth"])
    assert all(u.startswith(served.base) for u in result["requests"]), result["requests"]
    assert result["console"] == []
    assert not any(token in u for u in result["requests"])
    for path in SHOTS.values():
        assert (IMG / path).is_file() and (IMG / path).stat().st_size > 10_000
