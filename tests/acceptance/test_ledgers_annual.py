"""docs/contract.md §10 (import ledger) and §7 (export annual): hand-made ledgers as an office keeps them,
imported through the command line; the yearly figures are counted here by hand from the rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.acceptance.kit import cli, sqlite_db

ANNUAL_KEYS = {"year", "disputes_found", "disputes_resolved", "online_cases", "units_inspected", "hazards_found",
               "hazards_rectified_on_time", "patrol_personnel", "patrol_vehicles", "patrol_roads", "patrol_communities",
               "penalties", "penalty_amount_yuan", "publicity_sessions", "tasks_published", "tasks_completed"}
NAMES = ["张三", "李四", "王五", "赵六", "虹都1号便利店", "亿城商贸有限公司"]

LEDGERS = {
    # title and unit rows above the header, header cells padded with both kinds of space, a blank row, 合计
    "disputes": ("矛盾纠纷排查化解台账（2024年）\n填报单位：西于庄街道,,,,,\n"
                 " 编号 ,登记日期,\u3000化解状态\u3000,当事人,楼栋,化解日期,备注\n"
                 "MD-1,2024-03-05,已化解,张三,1号楼,2024年3月9日,调解成功\n"
                 "MD-2,2024/3/6,化解中,李四,虹都中心2号楼,,\n"
                 ",,,,,,\n"
                 "MD-3,2024.3.7 14:30,已移交,王五,2,2024-03-10,\n"
                 "MD-4,2023-12-30,已化解,赵六,,2024-01-02,\n"
                 "MD-5,2024-12-31 23:00,已化解,张三,1,2025-01-02,\n"
                 "合计,5,,,,,\n"),
    # column order free, extra column ignored
    "hazards": ("隐患类别,编号,楼栋,发现日期,整改期限,整改完成日期,复查日期,录入人\n"
                "消防,HZ-1,1,2024-05-01,2024-05-10,2024-05-10,2024-05-12,x\n"
                "消防,HZ-2,2,2024-05-02,2024-05-04,2024-05-06,,x\n"
                "用电,HZ-3,1号楼,2024-06-01,2024-06-30,,,x\n"
                "用电,HZ-4,1,2024-06-02,2024-06-05,2024-06-05 08:00,,x\n"
                "总计,4,,,,,,\n"),
    "patrols": ("日期,出动人次,车次,路次,社区次\n"
                "2024-01-05,１２人次,3,5,2\n"
                "2024-02-05,8人,,4,\n"
                "2024-02-05,8人,,4,\n"
                "2025-01-01,100,100,100,100\n"
                "2024年1月1日 00:30,1人次,,,\n"  # 2023-12-31 16:30 UTC: Beijing's 2024
                "2023-12-31 23:59,50,,,\n"),
    "inspections": ("日期,检查对象\n2024-04-01,虹都1号便利店\n2024-04-02,亿城商贸有限公司\n2024-04-02,亿城商贸有限公司\n"),
    "penalties": ("日期,处罚对象,处罚种类,罚款金额（元）\n2024-04-03,虹都1号便利店,罚款,\"1,500元\"\n"
                  "2024-04-04,亿城商贸有限公司,警告,\n2024-04-05,赵六,罚款,２００\n"),
    "publicity": ("日期,主题,参与人数\n2024-03-15,消费者权益保护法,50人\n2024-12-04,宪法宣传日,120\n"),
    "petitions": ("编号,受理日期,渠道,答复日期\nXF-1,2024-02-01,网上平台,2024-02-10\nXF-2,2024-02-02,网络,\n"
                  "XF-3,2024-02-03,来信,\nXF-4,2024-02-04,12345,\nXF-5,2024-02-05,来访,\n"),
    "tasks": ("编号,公示日期,完成日期\nRW-1,2024-03-01,2024-03-20\nRW-2,2024-09-01,\nRW-3,2024-10-01,2024-10-15\n"),
}
FIGURES_2024 = {
    "year": 2024, "disputes_found": 4, "disputes_resolved": 1,  # MD-4 was found in 2023; MD-5 resolved in 2025
    "online_cases": 2, "units_inspected": 3, "hazards_found": 4, "hazards_rectified_on_time": 2,
    "patrol_personnel": 29, "patrol_vehicles": 3, "patrol_roads": 13, "patrol_communities": 2,
    "penalties": 3, "penalty_amount_yuan": 1700, "publicity_sessions": 2, "tasks_published": 3, "tasks_completed": 2,
}


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    run = cli("persons", "keygen")
    assert run.code == 0, run.stderr
    monkeypatch.setenv("RISKWATCH_REGISTRY_KEYS", run.stdout.strip().splitlines()[-1])


def write(tmp: Path, kind: str, encoding: str = "utf-8") -> Path:
    path = tmp / f"{kind}.csv"
    path.write_bytes(LEDGERS[kind].encode(encoding))
    return path


def imported(path: Path, kind: str, db: str, *extra: str) -> tuple[int, dict]:
    run = cli("import", "ledger", path, "--kind", kind, "--db", db, "--json", *extra)
    return run.code, json.loads(run.stdout)


def test_a_year_of_eight_ledgers_gives_the_hand_counted_figures(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    for kind in LEDGERS:
        code, report = imported(write(tmp_path, kind, "gb18030" if kind == "petitions" else "utf-8"), kind, db)
        assert code == 0, (kind, report)
        assert set(report) == {"rows", "events", "new", "existing", "skipped", "errors"}
        assert report["errors"] == [] and report["new"] == report["events"]
    run = cli("export", "annual", "--year", "2024", "--db", db, "--json")
    assert run.code == 0, run.stderr
    figures = json.loads(run.stdout)
    assert ANNUAL_KEYS <= set(figures)
    assert {k: figures[k] for k in ANNUAL_KEYS} == FIGURES_2024


def test_rows_and_events_of_a_messy_ledger_and_idempotent_reimport(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    path = write(tmp_path, "disputes")
    code, first = imported(path, "disputes", db)
    # 5 rows; reported x5, resolved for MD-1, MD-4, MD-5, referred for MD-3
    assert code == 0 and (first["rows"], first["events"], first["new"], first["existing"]) == (5, 9, 9, 0)
    code, again = imported(path, "disputes", db)
    assert code == 0 and (again["events"], again["new"], again["existing"]) == (9, 0, 9)
    # a later version of the same ledger adds only what is new
    path.write_text(LEDGERS["disputes"].replace("MD-2,2024/3/6,化解中,李四,虹都中心2号楼,,",
                                                "MD-2,2024/3/6,已化解,李四,虹都中心2号楼,2024-03-20,"), encoding="utf-8")
    code, later = imported(path, "disputes", db)
    assert code == 0 and (later["new"], later["existing"]) == (1, 9)
    events = stored_events(db)
    assert len(events) == 10 and all(e["source"] == "ledger" for e in events)
    by_id = {(e["type"], e["case_id"]): e for e in events}
    # a date alone is 09:00 Beijing time; a time given is kept
    assert by_id[("reported", "MD-1")]["occurred_at"].startswith("2024-03-05 01:00")
    assert by_id[("reported", "MD-3")]["occurred_at"].startswith("2024-03-07 06:30")
    assert by_id[("resolved", "MD-1")]["occurred_at"].startswith("2024-03-09 01:00")


def test_names_never_reach_an_event(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    for kind in ("disputes", "inspections", "penalties"):
        assert imported(write(tmp_path, kind), kind, db)[0] == 0
    with sqlite3.connect(tmp_path / "rw.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table == "person_registry":  # encrypted
                continue
            text = " ".join(str(v) for row in conn.execute(f'SELECT * FROM "{table}"') for v in row)
            for name in NAMES:
                assert name not in text, (table, name)


def test_every_bad_row_listed_and_nothing_imported(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    path = tmp_path / "h.csv"
    path.write_text("隐患排查台账\n编号,发现日期,整改期限,楼栋\nHZ-1,2024-13-05,2024-03-09,9号楼\nHZ-2,,2024-03-09,1\n"
                    "HZ-3,2024-03-01,2024-03-09,1\n", encoding="utf-8")
    code, report = imported(path, "hazards", db)
    assert code == 2
    assert {(e["sheet"], e["row"], e["column"]) for e in report["errors"]} == {
        ("h.csv", 3, "发现日期"), ("h.csv", 3, "楼栋"), ("h.csv", 4, "发现日期")}
    assert all(e["reason"] and not e["reason"].isascii() for e in report["errors"])  # Chinese
    assert stored_events(db) == []
    code, report = imported(path, "hazards", db, "--skip-bad")
    assert code == 0 and report["new"] == 1
    # `<file>.errors.xlsx` read as the name without its suffix (docs/contract.md §10 says so)
    assert (tmp_path / "h.errors.xlsx").exists()
    assert [e["case_id"] for e in stored_events(db)] == ["HZ-3"]


def test_xlsx_with_excel_dates_and_a_notes_sheet(tmp_path: Path, keys: None) -> None:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "说明"
    notes.append(["本表由社区填报"])
    sheet = book.create_sheet("台账")
    sheet.append(["执法检查台账"])
    sheet.append(["日期", "检查对象"])
    sheet.append([datetime(2024, 7, 1), "虹都1号便利店"])
    sheet.append(["2024年7月2日", "亿城商贸有限公司"])
    sheet.append(["2024年7月32日", "亿城商贸有限公司"])
    path = tmp_path / "inspections.xlsx"
    book.save(path)
    db = sqlite_db(tmp_path)
    code, report = imported(path, "inspections", db, "--sheet", "台账")
    assert code == 2 and [(e["sheet"], e["row"], e["column"]) for e in report["errors"]] == [("台账", 5, "日期")]
    code, report = imported(path, "inspections", db, "--sheet", "台账", "--skip-bad")
    assert code == 0 and report["new"] == 2, report
    assert sorted(e["occurred_at"][:16] for e in stored_events(db)) == ["2024-07-01 01:00", "2024-07-02 01:00"]


def test_rows_without_a_number_are_identified_by_content_and_occurrence(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    path = tmp_path / "patrols.csv"
    path.write_text("日期,出动人次\n2024-02-05,8\n2024-02-05,8\n", encoding="utf-8")
    assert imported(path, "patrols", db)[1]["new"] == 2  # two identical rows are two patrols
    assert imported(path, "patrols", db)[1]["new"] == 0
    path.write_text("日期,出动人次\n2024-02-05,8\n2024-02-05,8\n2024-02-05,8\n2024-02-06,8\n", encoding="utf-8")
    assert imported(path, "patrols", db)[1]["new"] == 2
    future = tmp_path / "future.csv"
    future.write_text("日期,出动人次\n2099-01-01,3\n", encoding="utf-8")
    code, report = imported(future, "patrols", db)
    assert code == 2 and [(e["row"], e["column"]) for e in report["errors"]] == [(2, "日期")]


def test_petition_channels(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    assert imported(write(tmp_path, "petitions"), "petitions", db)[0] == 0
    received = {e["event_id"]: json.loads(e["doc"])["attributes"]["channel"] for e in stored_events(db)
                if e["type"] == "received"}
    assert sorted(received.values()) == ["letter", "online", "online", "phone", "visit"]
    assert sum(e["type"] == "replied" for e in stored_events(db)) == 1


def test_places_dry_run_and_missing_header(tmp_path: Path, keys: None) -> None:
    db = sqlite_db(tmp_path)
    path = tmp_path / "d.csv"
    path.write_text("编号,登记日期,化解状态,地点,楼栋\nMD-1,2024-03-05,化解中,1号楼大堂,\nMD-2,2024-03-05,化解中,南门外,\n"
                    "MD-3,2024-03-05,化解中,HD-2-1203,\n", encoding="utf-8")
    code, report = imported(path, "disputes", db, "--dry-run")
    assert code == 0 and report["events"] == 3 and stored_events(db) == []
    assert imported(path, "disputes", db)[0] == 0
    docs = {e["case_id"]: json.loads(e["doc"]) for e in stored_events(db)}
    assert docs["MD-1"]["location"] == {"id": "HD-1-01-lobby", "building": "1"}  # a place name from area.yaml
    assert docs["MD-3"]["location"] == {"id": "HD-2-1203", "building": "2"}  # a place id
    assert "location" not in docs["MD-2"] and "南门外" in json.dumps(docs["MD-2"], ensure_ascii=False)  # free text kept
    hazards = tmp_path / "h.csv"
    hazards.write_text("编号,发现日期,整改期限\nHZ-1,2024-03-05,2024-03-09\n", encoding="utf-8")
    assert imported(hazards, "hazards", db)[0] == 0
    [found] = [json.loads(e["doc"]) for e in stored_events(db) if e["type"] == "found"]
    assert found["attributes"]["due_at"] == "2024-03-09T23:59:59+08:00"
    no_header = tmp_path / "n.csv"
    no_header.write_text("编号,登记日期\nMD-9,2024-03-05\n", encoding="utf-8")
    run = cli("import", "ledger", no_header, "--kind", "disputes", "--db", db, "--json")
    assert run.code == 2 and "化解状态" in run.stderr


def stored_events(db: str) -> list[dict]:
    """The events table read back (SQLite), with attributes.case_id/hazard_id lifted out for the asserts."""
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM events")]
    out = []
    for row in rows:
        doc = row["doc"]
        attrs = (json.loads(doc) if isinstance(doc, str | bytes) else doc or {}).get("attributes", {})
        out.append({**row, "case_id": attrs.get("case_id") or attrs.get("hazard_id")})
    return out
