"""A year of the street's eight ledgers as offices keep them, and the yearly figures counted by hand.

`LedgerYear(seed).build()` makes the rows (mostly 2024, a few either side of the year boundary);
`files()` writes each ledger with its own mess — merged titles, unit and note rows, header cells with
spaces of both widths, shuffled and extra columns, blank, 合计 and repeated-header rows, every date
and number form, GB18030 CSV, a notes sheet first — and `figures(year)` counts docs/contract.md §7
straight from the rows (not from events): what an officer would count with a pencil.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from openpyxl import Workbook

FULL = str.maketrans("0123456789", "０１２３４５６７８９")
PERSONS = [f"住户{a}{b}" for a in "甲乙丙丁戊" for b in "一二三四五六"]
BUSINESSES = [f"虹都{n}号便利店" for n in range(1, 30)] + [f"亿城商贸有限公司{n}部" for n in range(1, 10)]


@dataclass
class Ledger:
    kind: str
    header: list[str]
    rows: list[dict] = field(default_factory=list)


def _in(day: date | None, year: int) -> bool:
    return day is not None and day.year == year


class LedgerYear:
    def __init__(self, seed: int, year: int = 2024):
        self.rng = random.Random(seed)
        self.year = year
        self.ledgers: dict[str, Ledger] = {}

    def _day(self, spill: bool = True) -> date:
        start = date(self.year, 1, 1) - timedelta(days=20 if spill else 0)
        span = 365 + (40 if spill else -1)
        return start + timedelta(days=self.rng.randrange(span))

    # -- rows ----------------------------------------------------------------------------------

    def build(self) -> LedgerYear:
        r = self.rng
        disputes = Ledger("disputes", ["编号", "登记日期", "化解状态", "纠纷类型", "当事人", "楼栋", "地点", "简要情况",
                                       "化解日期"])
        for n in range(1, 121):
            day = self._day()
            status = r.choices(["已化解", "化解中", "已移交"], weights=(70, 20, 10))[0]
            closed = day + timedelta(days=r.randrange(0, 30)) if status != "化解中" else None
            parties = r.sample(PERSONS, r.choice((1, 2)))
            place = r.choice(["1号楼大堂", "", "南门外", "HD-2-1203"])
            building = {"1号楼大堂": ["1号楼", "1栋", ""], "HD-2-1203": ["2", "虹都中心2号楼", ""]}.get(
                place, ["1号楼", "2", "虹都中心2号楼", "", "1栋"])
            disputes.rows.append({"编号": f"MD{self.year}-{n:03d}", "登记日期": day, "化解状态": status,
                                  "纠纷类型": r.choice(["邻里噪音", "物业费争议", "漏水损害赔偿", "其他"]),
                                  "当事人": "、".join(parties), "楼栋": r.choice(building), "地点": place,
                                  "简要情况": f"{parties[0]}反映相关问题", "化解日期": closed})
        hazards = Ledger("hazards", ["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "地点", "隐患描述", "整改完成日期",
                                     "复查日期"])
        for n in range(1, 151):
            day = self._day()
            days = r.randrange(1, 8)
            done = day + timedelta(days=r.randrange(0, 12)) if r.random() < 0.85 else None
            hazards.rows.append({"编号": f"YH-{n}", "发现日期": day, "整改期限": (f"{days}天" if r.random() < 0.3
                                                                            else day + timedelta(days=days)),
                                 "deadline": day + timedelta(days=days), "隐患类别": r.choice(["消防", "用电", "杂物堆放"]),
                                 "楼栋": r.choice(["1", "2号楼"]), "地点": r.choice(["", "2号楼消防泵房", "楼道"]),
                                 "隐患描述": "堆放杂物", "整改完成日期": done,
                                 "复查日期": done + timedelta(days=1) if done and r.random() < 0.5 else None})
        # a building named in the wrong building's place is a bad row: keep places consistent
        for row in hazards.rows:
            if row["地点"] == "2号楼消防泵房":
                row["楼栋"] = "2号楼"
        patrols = Ledger("patrols", ["日期", "出动人次", "车次", "路次", "社区次"])
        for _ in range(400):
            patrols.rows.append({"日期": self._day(), "出动人次": r.randrange(2, 9), "车次": r.choice([0, 1, 2, None]),
                                 "路次": r.randrange(0, 6), "社区次": r.choice([1, 2, None])})
        inspections = Ledger("inspections", ["日期", "检查对象"])
        for _ in range(300):
            inspections.rows.append({"日期": self._day(), "检查对象": r.choice(BUSINESSES)})
        penalties = Ledger("penalties", ["日期", "处罚对象", "处罚种类", "罚款金额（元）"])
        for _ in range(60):
            kind = r.choice(["警告", "罚款", "罚款"])
            penalties.rows.append({"日期": self._day(), "处罚对象": r.choice(BUSINESSES + PERSONS[:5]), "处罚种类": kind,
                                   "罚款金额（元）": r.choice([200, 500, 1000, 2500, 1500.5]) if kind == "罚款" else None})
        publicity = Ledger("publicity", ["日期", "主题", "参与人数"])
        for _ in range(40):
            publicity.rows.append({"日期": self._day(), "主题": r.choice(["民法典宣传", "消防安全", "反诈宣传"]),
                                   "参与人数": r.choice([30, 45, 60, None])})
        petitions = Ledger("petitions", ["编号", "受理日期", "渠道", "答复日期"])
        for n in range(1, 101):
            day = self._day()
            petitions.rows.append({"编号": f"XF{n:04d}", "受理日期": day,
                                   "渠道": r.choice(["网上平台", "网络", "来信", "来访", "电话", "12345"]),
                                   "答复日期": day + timedelta(days=r.randrange(1, 15)) if r.random() < 0.9 else None})
        tasks = Ledger("tasks", ["编号", "公示日期", "完成日期"])
        for n in range(1, 51):
            day = self._day()
            tasks.rows.append({"编号": f"SJ-{n}", "公示日期": day,
                               "完成日期": day + timedelta(days=r.randrange(5, 40)) if r.random() < 0.8 else None})
        for ledger in (disputes, hazards, patrols, inspections, penalties, publicity, petitions, tasks):
            self.ledgers[ledger.kind] = ledger
        return self

    # -- counting by hand ----------------------------------------------------------------------

    def figures(self, year: int) -> dict:
        L = self.ledgers
        found = {r["编号"] for r in L["disputes"].rows if _in(r["登记日期"], year)}
        resolved = {r["编号"] for r in L["disputes"].rows
                    if r["化解状态"] == "已化解" and _in(r["化解日期"], year)}
        hz = [r for r in L["hazards"].rows if _in(r["发现日期"], year)]
        on_time = [r for r in hz if _in(r["整改完成日期"], year) and r["整改完成日期"] <= r["deadline"]]
        patrols = [r for r in L["patrols"].rows if _in(r["日期"], year)]
        penalties = [r for r in L["penalties"].rows if _in(r["日期"], year)]
        return {
            "year": year,
            "disputes_found": len(found),
            "disputes_resolved": len(found & resolved),
            "online_cases": sum(1 for r in L["petitions"].rows if _in(r["受理日期"], year) and r["渠道"] in ("网上平台", "网络")),
            "units_inspected": sum(1 for r in L["inspections"].rows if _in(r["日期"], year)),
            "hazards_found": len(hz),
            "hazards_rectified_on_time": len(on_time),
            "patrol_personnel": sum(r["出动人次"] for r in patrols),
            "patrol_vehicles": sum(r["车次"] or 0 for r in patrols),
            "patrol_roads": sum(r["路次"] or 0 for r in patrols),
            "patrol_communities": sum(r["社区次"] or 0 for r in patrols),
            "penalties": len(penalties),
            "penalty_amount_yuan": _whole(sum(r["罚款金额（元）"] or 0 for r in penalties)),
            "publicity_sessions": sum(1 for r in L["publicity"].rows if _in(r["日期"], year)),
            "tasks_published": sum(1 for r in L["tasks"].rows if _in(r["公示日期"], year)),
            "tasks_completed": sum(1 for r in L["tasks"].rows if _in(r["完成日期"], year)),
            # the export's keys beyond docs/contract.md §7
            "hazards_rectified": sum(1 for r in hz if _in(r["整改完成日期"], year)),
            "warnings_issued": 0,
            "publicity_audience": sum(r["参与人数"] or 0 for r in L["publicity"].rows if _in(r["日期"], year)),
            "petitions_received": sum(1 for r in L["petitions"].rows if _in(r["受理日期"], year)),
            "petitions_replied": sum(1 for r in L["petitions"].rows if _in(r["答复日期"], year)),
        }

    def names(self) -> list[str]:
        return PERSONS + BUSINESSES

    # -- files as offices keep them ------------------------------------------------------------

    def files(self) -> dict[str, tuple[str, bytes]]:
        """kind -> (file name, bytes). Four ledgers as .xlsx, four as CSV (two of them GB18030)."""
        out = {}
        for n, (kind, ledger) in enumerate(self.ledgers.items()):
            as_csv = n % 2 == 1
            grid = self._grid(ledger, as_csv)
            if as_csv:
                out[kind] = (f"{kind}.csv", _csv(grid, "gb18030" if n % 4 == 1 else "utf-8-sig"))
            else:
                out[kind] = (f"{kind}.xlsx", _xlsx(grid, notes=n % 4 == 0))
        return out

    def _grid(self, ledger: Ledger, as_csv: bool) -> list[list[object]]:
        r = self.rng
        columns = ["序号", *ledger.header, "备注"]
        middle = columns[1:-1]
        r.shuffle(middle)
        columns = [columns[0], *middle, columns[-1]]
        spaced = [f" {c[0]}\u3000{c[1:]} " if len(c) > 1 and r.random() < 0.3 else c for c in columns]
        grid: list[list[object]] = [[f"西于庄街道{self.year}年度台账"], ["填报单位：西于庄街道综治中心", None, "单位：件"], [],
                                    spaced]
        for i, row in enumerate(ledger.rows, start=1):
            grid.append([i, *(self._cell(c, row.get(c), as_csv) for c in middle), r.choice(["", "已归档", None])])
            if r.random() < 0.03:
                grid.append([])
            if r.random() < 0.01:
                grid.append(spaced)                        # a header repeated for the next printed page
            if i % 97 == 0:
                grid.append(["合计", f"{i}件"])
        grid.append(["总计", len(ledger.rows)])
        return grid

    def _cell(self, column: str, value: object, as_csv: bool) -> object:
        r = self.rng
        if value is None:
            return r.choice(["", None, "  "])
        if isinstance(value, date):
            if not as_csv and r.random() < 1 / 7:
                return value                               # an Excel date cell
            y, m, d = value.year, value.month, value.day
            return r.choice([f"{value:%Y-%m-%d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日",
                             f"{value:%Y-%m-%d} {r.randrange(8, 21)}:{r.choice(['00', '30'])}",
                             f"{y}年{m}月{d}日".translate(FULL)])
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            unit = {"出动人次": "人次", "罚款金额（元）": "元", "参与人数": "人"}.get(column, "")
            form = r.randrange(4)
            if form == 0:
                return value
            if form == 1:
                return f"{value}{unit}"
            if form == 2:
                return str(value).translate(FULL)
            return f"{value:,}{unit}" if isinstance(value, int) else str(value)
        return value


def _whole(x: float) -> int | float:
    return int(x) if float(x).is_integer() else round(x, 2)


def _xlsx(grid: list[list[object]], notes: bool) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    if notes:
        first.title = "填表说明"
        first.append(["本表按月汇总，日期格式不限"])
        sheet = book.create_sheet("台账")
    else:
        first.title = "台账"
        sheet = first
    for row in grid:
        sheet.append(row)
    width = max(len(r) for r in grid)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(grid: list[list[object]], encoding: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    for row in grid:
        writer.writerow(["" if c is None else c for c in row])
    return text.getvalue().encode(encoding)
