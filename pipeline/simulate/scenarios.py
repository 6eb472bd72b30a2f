"""Injected risk scenarios S1–S7 and quiet entities, with the ground truth they promise.

All scenario events fall within the first 72 hours after the start (day 0 = the start day, a Monday by
default), so a run of `--days 3` or more contains every one of them. Times below are offsets from
the start, written as (day, "HH:MM").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import UsageError
from pipeline.simulate.background import Monitoring
from pipeline.simulate.casework import petition
from pipeline.simulate.core import DAY, HOUR, MINUTE, PROTECTED, QUIET, Ctx, business, person
from pipeline.simulate.patrol import GAP_CANDIDATE

S2_UNIT = "HD-1-1203"
S5_PLACE = "HD-2-09-corridor"
S7_SHOP = "HD-2-01-S02"
S3_EXITS = ("FEX-2-01E", "FEX-2-12", "FEX-2-B1")
S6_DOORS = ("DOR-1-01-SIDE", "DOR-1-B1-GARAGE", "DOR-1-28-ROOF")
S4_CHECKPOINT = "CP-2-ROOF"
S4_GAP = 14 * HOUR


@dataclass
class Scenario:
    id: str
    entity: str
    min_level: str
    why: str
    expected: int  # number of events that make it complete
    complete_at: int = 0
    events: list[str] = field(default_factory=list)


class Scenarios:
    def __init__(self, ctx: Ctx, monitoring: Monitoring):
        self.ctx = ctx
        self.injected = False
        self._before_gap: str | None = None
        w = ctx.world
        for b in ("1", "2"):
            if b not in w.buildings:
                raise UsageError(f"the simulator's scenarios need building {b!r} in the area")
        self.exits = _pick(w.sensors.get("fire_exit", []), "2", S3_EXITS)
        self.doors = _pick(w.sensors.get("door", []), "1", S6_DOORS)
        cps = [cp.id for cp, _ in w.routes["2"]]
        if not cps:
            raise UsageError("the simulator's scenarios need a patrol checkpoint in building 2")
        self.checkpoint = S4_CHECKPOINT if S4_CHECKPOINT in cps else cps[-1]
        gas = [p.id for s, p in w.sensors.get("gas", []) if s.building == "2"]
        self.gas_shop = S7_SHOP if S7_SHOP in gas else (gas[0] if gas else S7_SHOP)

        s = self.at
        self.list = [
            Scenario("S1", "person:P-0101", "high",
                     "同一当事人一周内两起邻里纠纷：首次调解失败，再次被报告并上报街道，随后出现暴力威胁言论。", 5),
            Scenario("S2", f"location:{S2_UNIT}", "critical",
                     "同一房间3天内3次监测到电动自行车入户充电，最后一次后24小时内烟感报警（severity 4）。", 4),
            Scenario("S3", "building:2", "high", "2号楼2天内3个不同安全出口被堵塞。", 3),
            Scenario("S4", f"checkpoint:{self.checkpoint}", "medium",
                     f"巡逻点{self.checkpoint}夜间连续14小时无人巡查（其余时间约每70分钟内至少一次）。", 2),
            Scenario("S5", f"location:{S5_PLACE}", "medium", "消防隐患发现后限期3天整改，到期未整改。", 1),
            Scenario("S6", "building:1", "high", "1号楼6小时内3个不同门禁被强行开启（夜间）。", 3),
            Scenario("S7", f"location:{self.gas_shop}", "high", "底商餐饮店燃气报警（severity 4）。", 1),
        ]
        self.by_id = {sc.id: sc for sc in self.list}
        self.quiet = [
            {"entity": "person:P-0201", "why": "一周内提交6件信访（complainant）：信访不得提高个人风险分。"},
            {"entity": "person:P-0202", "why": "一起纠纷当天报告、调解达成一致并化解。"},
            {"entity": "business:B-0009", "why": "多次检查均无问题（findings 0）。"},
        ]

        # make room for the scenarios in the background
        monitoring.blackouts[("fire_exit_blocked", "2")] = [(s(1, "10:20") - 3 * DAY, s(2, "09:40") + 3 * DAY)]
        monitoring.blackouts[("access_forced", "1")] = [(s(1, "01:10") - DAY, s(1, "04:05") + DAY)]
        ctx.patrol_gap = (self.checkpoint, s(1, "18:30"), S4_GAP)

    def at(self, day: int, hhmm: str) -> int:
        h, m = hhmm.split(":")
        return self.ctx.start + day * DAY + int(h) * HOUR + int(m) * MINUTE

    def inject(self) -> None:
        """Push every scenario and quiet event (called once, after the first day's background)."""
        if self.injected:
            return
        self.injected = True
        self._s1()
        self._s2()
        self._s3()
        self._s5()
        self._s6()
        self._s7()
        self._quiet()
        # S4's events come from the patrol (patrol.py); its complete_at is set when they are emitted

    def record(self, meta: str, event_id: str, t: int) -> str:
        """Note an emitted scenario event (in time order); returns the meta to keep for the line."""
        if meta == GAP_CANDIDATE:
            # S4: the last visit of the checkpoint before the gap and the first one after it
            sc = self.by_id["S4"]
            assert self.ctx.patrol_gap is not None      # set whenever S4 runs
            gap_from, length = self.ctx.patrol_gap[1:]
            if t < gap_from:
                self._before_gap = event_id
            elif not sc.events and self._before_gap is not None and t >= gap_from + length:
                sc.events = [self._before_gap, event_id]
                sc.complete_at = t
            return PROTECTED
        self.by_id[meta].events.append(event_id)
        return meta

    # ------------------------------------------------------------------ scenarios
    def _s1(self) -> None:
        ctx, s = self.ctx, self.at
        home = ctx.world.place("HD-1-1507")
        case_a = ctx.new_id("MD", s(0, "10:05"))
        case_b = ctx.new_id("MD", s(1, "09:20"))
        a_parties = [("P-0101", "party"), ("P-0111", "party")]
        b_parties = [("P-0101", "party"), ("P-0112", "party")]
        steps = [
            (s(0, "10:05"), "reported", case_a, a_parties, 2, ["neighbour_noise"], {"channel": "grid_worker"},
             "楼上楼下噪音纠纷，双方情绪激动，网格员到场了解情况。"),
            (s(0, "15:30"), "mediation_held", case_a, a_parties, 2, ["neighbour_noise"], {"outcome": "failed"},
             "社区调解员组织双方调解，未达成一致。"),
            (s(1, "09:20"), "reported", case_b, b_parties, 3, ["neighbour_noise"], {"channel": "hotline"},
             "同一住户与隔壁住户再次因噪音发生争执，对方报警求助。"),
            (s(1, "16:45"), "escalated", case_b, b_parties, 3, ["neighbour_noise"], {"escalated_to": "街道综治中心"},
             "矛盾有激化趋势，上报街道综治中心。"),
            (s(2, "11:10"), "referred", case_b, [("P-0101", "party"), ("P-0112", "victim")], 4,
             ["neighbour_noise", "threat_of_violence"], {"referred_to": "派出所"},
             "调解过程中一方扬言报复，已移交派出所处置。"),
        ]
        for t, type_, case, parties, severity, tags, attrs, text in steps:
            ctx.push(t, "dispute", type_, "mediation", location=home.loc(),
                     subjects=[person(p, role) for p, role in parties], severity=severity, tags=tags,
                     attributes={"case_id": case, **attrs}, text=text, meta="S1")
        self.by_id["S1"].complete_at = steps[-1][0]

    def _s2(self) -> None:
        ctx, s = self.ctx, self.at
        unit = ctx.world.place(S2_UNIT)
        device = f"MTR-{unit.building}-{unit.unit}"
        for t, minutes in ((s(0, "19:30"), 180), (s(1, "20:05"), 210), (s(2, "02:15"), 95)):
            ctx.push(t, "monitoring", "ebike_indoor_charging", "sensor-gw", reported_after=6, location=unit.loc(),
                     severity=3, attributes={"device_id": device, "method": "smart_meter", "charging_minutes": minutes},
                     meta="S2")
        t = s(2, "04:50")
        ctx.push(t, "monitoring", "smoke_alarm", "sensor-gw", reported_after=4, location=unit.loc(), severity=4,
                 attributes={"device_id": f"USD-{unit.building}-{unit.unit}", "cause": "unknown", "cleared": False},
                 text="室内烟感报警，疑似电动自行车电池冒烟，已通知物业和消防站。", meta="S2")
        self.by_id["S2"].complete_at = t

    def _s3(self) -> None:
        ctx, s = self.ctx, self.at
        times = (s(1, "10:20"), s(1, "16:05"), s(2, "09:40"))
        for t, (device, place) in zip(times, self.exits, strict=False):
            ctx.push(t, "monitoring", "fire_exit_blocked", "sensor-gw", reported_after=9, location=place.loc(),
                     severity=3, attributes={"device_id": device}, text="安全出口被杂物堵塞。", meta="S3")
        self.by_id["S3"].complete_at = times[-1]

    def _s5(self) -> None:
        ctx, s = self.ctx, self.at
        place = ctx.world.place(S5_PLACE)
        # found by the night patrol 20 minutes into the run: in a 3-day run the due time is only
        # 20 minutes after the end, so `replay --until <complete_at>` shows it before any checkpoint
        # deadline of the run's last patrol round falls due
        t = s(0, "00:20")
        due = t + 3 * DAY
        ctx.push(t, "hazard", "found", "patrol-app", location=place.loc(), severity=3, tags=["hydrant_box_damaged"],
                 attributes={"hazard_id": ctx.new_id("HZ", t), "category": "fire", "due_at": ctx.iso(due)},
                 text="夜间巡查发现走廊消火栓箱水带缺失、箱门损坏，责令3日内整改。", meta="S5")
        self.by_id["S5"].complete_at = due

    def _s6(self) -> None:
        ctx, s = self.ctx, self.at
        times = (s(1, "01:10"), s(1, "02:35"), s(1, "04:05"))
        for t, (device, place) in zip(times, self.doors, strict=False):
            ctx.push(t, "monitoring", "access_forced", "sensor-gw", reported_after=3, location=place.loc(),
                     severity=3, attributes={"device_id": device}, text="门禁被强行开启。", meta="S6")
        self.by_id["S6"].complete_at = times[-1]

    def _s7(self) -> None:
        ctx, s = self.ctx, self.at
        t = s(2, "11:35")
        place = ctx.world.place(self.gas_shop)
        ctx.push(t, "monitoring", "gas_alarm", "sensor-gw", reported_after=2, location=place.loc(), severity=4,
                 attributes={"device_id": f"GAS-{place.building}-01{place.unit}", "concentration_lel": 25},
                 text="燃气浓度超限报警，已关闭燃气总阀并疏散。", meta="S7")
        self.by_id["S7"].complete_at = t

    # ------------------------------------------------------------------ quiet entities
    def _quiet(self) -> None:
        ctx, s = self.ctx, self.at
        filings = ((0, "09:15", "online", "property_management"), (0, "16:40", "phone", "noise"),
                   (1, "10:05", "visit", "facility_repair"), (1, "14:30", "online", "property_management"),
                   (2, "09:50", "online", "parking"), (2, "15:20", "phone", "noise"))
        for day, hhmm, channel, topic in filings:
            petition(ctx, s(day, hhmm), "P-0201", topic, channel, QUIET)

        home = ctx.world.place("HD-2-0807")
        case = ctx.new_id("MD", s(1, "09:00"))
        parties = [person("P-0202", "party"), person("P-0203", "party")]
        for t, type_, attrs, text in (
            (s(1, "09:00"), "reported", {"channel": "walk_in"}, "楼上漏水造成楼下墙面受损，双方就维修产生争议。"),
            (s(1, "14:00"), "mediation_held", {"outcome": "agreed"}, "经社区调解，楼上住户同意承担维修费用。"),
            (s(1, "16:30"), "resolved", {}, "维修完成，纠纷化解。"),
        ):
            ctx.push(t, "dispute", type_, "mediation", location=home.loc(), subjects=[dict(p) for p in parties],
                     severity=1, tags=["water_leak_damage"], attributes={"case_id": case, **attrs}, text=text,
                     meta=QUIET)

        biz = ctx.world.businesses["B-0009"]
        for day, hhmm, kind in ((0, "10:30", "消防安全"), (1, "15:00", "治安管理"), (2, "10:10", "出租房屋管理"),
                                (4, "14:20", "消防安全")):
            ctx.push(s(day, hhmm), "inspection", "unit_inspected", "enforcement-app", location=biz.place.loc(),
                     subjects=[business(biz.id, "operator")],
                     attributes={"inspection_type": kind, "business_type": biz.kind, "findings": 0, "result": "合格"},
                     meta=QUIET)

    # ------------------------------------------------------------------ truth
    def truth(self, seed: int, days: int) -> dict:
        ctx = self.ctx
        scenarios = []
        for sc in self.list:
            if len(sc.events) < sc.expected:
                continue  # the run is too short for this one
            scenarios.append({
                "id": sc.id, "entity": sc.entity, "min_level": sc.min_level, "why": sc.why,
                "events": list(sc.events), "complete_at": ctx.iso(sc.complete_at),
            })
        return {
            "seed": seed, "days": days, "start": ctx.iso(ctx.start), "end": ctx.iso(ctx.end),
            "scenarios": scenarios, "quiet": [dict(q) for q in self.quiet],
        }


def _pick(sensors: list, building: str, preferred: tuple[str, ...]) -> list:
    """Three distinct sensors of a building: the preferred ids when the area has them."""
    mine = [(s.id, p) for s, p in sensors if s.building == building]
    by_id = dict(mine)
    chosen = [(i, by_id[i]) for i in preferred if i in by_id]
    for item in mine:
        if len(chosen) == 3:
            break
        if item not in chosen:
            chosen.append(item)
    if len(chosen) < 3:
        raise UsageError(f"the simulator's scenarios need 3 sensors of one type in building {building}")
    return chosen[:3]
