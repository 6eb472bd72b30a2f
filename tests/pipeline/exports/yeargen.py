"""A generated year of events whose docs/contract.md §7 figures are known by construction, with events on both
sides of the Asia/Shanghai new year (which UTC would put in the other year)."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
KEYS = ("disputes_found", "disputes_resolved", "online_cases", "units_inspected", "hazards_found",
        "hazards_rectified_on_time", "patrol_personnel", "patrol_vehicles", "patrol_roads", "patrol_communities",
        "penalties", "penalty_amount_yuan", "publicity_sessions", "tasks_published", "tasks_completed")
# 2024-12-31T23:30+08:00 is 15:30Z (2024 either way); 2025-01-01T00:10+08:00 is 2024-12-31T16:10Z:
# 2025 in Shanghai, 2024 in UTC. 2024-01-01T00:05+08:00 is 2023-12-31T16:05Z: 2024 in Shanghai.
LATE_2024 = datetime(2024, 12, 31, 23, 30, tzinfo=CST)
EARLY_2025 = datetime(2025, 1, 1, 0, 10, tzinfo=CST)
EARLY_2024 = datetime(2024, 1, 1, 0, 5, tzinfo=CST)


class YearGen:
    def __init__(self, seed: int = 11):
        self.rnd = random.Random(seed)
        self.lines: list[str] = []
        self.expected = {2024: Counter(), 2025: Counter(), 2023: Counter()}
        self.n = 0

    def ev(self, at: datetime, kind: str, type_: str, **fields) -> None:
        self.n += 1
        doc = {"event_id": f"y-{self.n:06d}", "kind": kind, "type": type_,
               "occurred_at": at.isoformat(timespec="seconds"), "source": "test", **fields}
        self.lines.append(json.dumps(doc, ensure_ascii=False))

    def when(self) -> datetime:
        return datetime(2024, 1, 1, tzinfo=CST) + timedelta(seconds=self.rnd.randrange(366 * 86400))

    def build(self) -> "YearGen":
        r, exp = self.rnd, self.expected
        # disputes: each case reported (sometimes twice), some resolved in the same year
        for i in range(40):
            t = self.when()
            case = f"MD-{i:04d}"
            self.ev(t, "dispute", "reported", attributes={"case_id": case})
            if i % 9 == 0:
                self.ev(t + timedelta(hours=1), "dispute", "reported", attributes={"case_id": case})
            self.ev(t + timedelta(hours=2), "dispute", "mediation_held", attributes={"case_id": case})
            exp[2024]["disputes_found"] += 1
            resolved_at = t + timedelta(days=r.randint(1, 20))
            if i % 4 and resolved_at.year == 2024:
                self.ev(resolved_at, "dispute", "resolved", attributes={"case_id": case})
                exp[2024]["disputes_resolved"] += 1
        self.ev(EARLY_2024, "dispute", "reported", attributes={"case_id": "MD-NY24"})
        exp[2024]["disputes_found"] += 1
        self.ev(LATE_2024, "dispute", "reported", attributes={"case_id": "MD-EVE"})
        exp[2024]["disputes_found"] += 1
        self.ev(EARLY_2025, "dispute", "resolved", attributes={"case_id": "MD-EVE"})  # resolved in 2025 only
        self.ev(EARLY_2025, "dispute", "reported", attributes={"case_id": "MD-NY25"})
        exp[2025]["disputes_found"] += 1
        self.ev(datetime(2023, 12, 31, 23, 50, tzinfo=CST), "dispute", "reported", attributes={"case_id": "MD-OLD"})
        exp[2023]["disputes_found"] += 1
        self.ev(self.when(), "dispute", "reported", attributes={"channel": "no case id"})   # not a case
        # petitions by channel
        for _ in range(60):
            online = r.random() < 0.4
            self.ev(self.when(), "petition", "received", attributes={"channel": "online" if online else "visit"})
            exp[2024]["online_cases"] += online
        self.ev(EARLY_2025, "petition", "received", attributes={"channel": "online"})
        exp[2025]["online_cases"] += 1
        # hazards: found with a due time; rectified before, at, after the due time, or never
        for i in range(30):
            t = self.when()
            if t > LATE_2024 - timedelta(days=10):
                t -= timedelta(days=10)
            hid, due = f"HZ-{i:04d}", t + timedelta(days=3)
            self.ev(t, "hazard", "found", attributes={"hazard_id": hid, "due_at": due.isoformat()})
            exp[2024]["hazards_found"] += 1
            mode = i % 4
            if mode == 0:
                self.ev(t + timedelta(days=1), "hazard", "rectified", attributes={"hazard_id": hid})
            elif mode == 1:
                self.ev(due, "hazard", "rectified", attributes={"hazard_id": hid})          # exactly on time
            elif mode == 2:
                self.ev(due + timedelta(seconds=1), "hazard", "rectified", attributes={"hazard_id": hid})
            exp[2024]["hazards_rectified_on_time"] += mode in (0, 1)
        self.ev(LATE_2024, "hazard", "found", attributes={"hazard_id": "HZ-EVE", "due_at": EARLY_2025.isoformat()})
        self.ev(EARLY_2025, "hazard", "rectified", attributes={"hazard_id": "HZ-EVE"})  # on time, but in 2025
        exp[2024]["hazards_found"] += 1
        # patrols
        for i in range(200):
            at = EARLY_2025 if i == 0 else (LATE_2024 if i == 1 else self.when())
            a = {"personnel": r.randint(1, 6), "vehicles": r.randint(0, 2), "roads": r.randint(1, 9),
                 "communities": r.randint(1, 3)}
            self.ev(at, "patrol", "patrol_finished", attributes=a)
            y = 2025 if i == 0 else 2024
            for k in ("personnel", "vehicles", "roads", "communities"):
                exp[y][f"patrol_{k}"] += a[k]
        # penalties, inspections, outreach, tasks
        for _ in range(12):
            amount = r.choice([200, 500, 1000, 2500.5])
            self.ev(self.when(), "enforcement", "penalty_issued", attributes={"amount_yuan": amount})
            exp[2024]["penalties"] += 1
            exp[2024]["penalty_amount_yuan"] += amount
        self.ev(self.when(), "enforcement", "warning_issued", attributes={"amount_yuan": 99})  # not a penalty
        for kind, type_, key, n in (("inspection", "unit_inspected", "units_inspected", 150),
                                    ("outreach", "publicity_session", "publicity_sessions", 25),
                                    ("inspection", "task_published", "tasks_published", 31),
                                    ("inspection", "task_completed", "tasks_completed", 27)):
            for _ in range(n):
                self.ev(self.when(), kind, type_)
            exp[2024][key] += n
            self.ev(EARLY_2025, kind, type_)
            exp[2025][key] += 1
        self.rnd.shuffle(self.lines)
        return self

    def figures(self, year: int) -> dict:
        c = self.expected[year]
        out = {"year": year, **{k: c.get(k, 0) for k in KEYS}}
        amount = out["penalty_amount_yuan"]
        out["penalty_amount_yuan"] = int(amount) if float(amount).is_integer() else round(amount, 2)
        return out

    def write(self, path) -> None:
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
