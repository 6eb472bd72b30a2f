"""Case-like background: disputes, hazards, inspections and enforcement, tasks, outreach, petitions.

Each case is created on its first day with its whole future (follow-ups wait in the event heap).
Kept away from the scenario patterns:
- a background person is a party to at most one dispute report in 60 days, no background dispute is
  escalated or tagged threat_of_violence (S1);
- every background hazard is rectified within 60 h of being found (most before `due_at`, some after
  it), so none stays open for 3 days (S5); the ones without a rectification are those whose
  rectification would fall after the end of the run;
- the quiet business B-0009 is left out entirely.
"""

from __future__ import annotations

from pipeline.simulate.area_model import BACKGROUND_PERSONS, LANDLORD, RESERVED_LOCATIONS
from pipeline.simulate.core import DAY, HOUR, MINUTE, PROTECTED, Ctx, business, person

OFFICE_HOURS = [0, 0, 0, 0, 0, 0, 0, 0.2, 1, 3, 3, 2, 0.5, 1, 3, 3, 2.5, 1.5, 0.3, 0, 0, 0, 0, 0]
EVENING_CALLS = [0.2, 0.1, 0, 0, 0, 0, 0.2, 0.5, 1, 2, 2, 2, 1, 1.5, 2, 2, 2, 2, 2, 2.5, 2.5, 2, 1, 0.5]

DISPUTES_PER_DAY = 0.8
HAZARDS_PER_DAY = 1.2
PETITIONS_PER_DAY = 1.0
PERSON_COOLDOWN = 60 * DAY
LANDLORD_COOLDOWN = 20 * DAY  # at most 2 rent cases in 30 days
HAZARD_MAX_OPEN = 60 * HOUR

DISPUTE_TAGS = {
    "neighbour_noise": "邻里噪音纠纷，网格员上门了解情况。",
    "property_fee": "物业费缴纳争议，业主对服务质量有异议。",
    "water_leak_damage": "楼上漏水造成楼下屋顶受损，双方就赔偿产生争议。",
    "parking": "地下车库车位占用纠纷。",
    "pet": "饲养宠物扰邻引发纠纷。",
    "rent_arrears": "租户拖欠租金，与公寓租赁公司发生争议。",
}
DISPUTE_WEIGHTS = (30, 20, 20, 10, 8, 12)
REFERRED_TO = ("司法所", "人民法院", "区人民调解委员会")

# category -> (days until due, [(tag, note)])
HAZARD_TYPES = {
    "fire": (2, [("hydrant_blocked", "消火栓被遮挡。"), ("extinguisher_expired", "灭火器过期。"),
                 ("fire_door_damaged", "防火门闭门器损坏。")]),
    "electrical": (2, [("flying_wire_charging", "楼道飞线充电。"), ("overloaded_socket", "插座超负荷使用。")]),
    "sundries": (1, [("sundries_in_corridor", "走廊堆放杂物。"), ("sundries_in_stairwell", "楼梯间堆放杂物。")]),
    "structure": (3, [("facade_loose", "外墙饰面局部松动。"), ("ceiling_crack", "吊顶开裂。")]),
}
HAZARD_WEIGHTS = (35, 25, 30, 10)

INSPECTION_TYPES = ("消防安全", "燃气安全", "治安管理", "食品安全", "出租房屋管理")
TASK_TITLES = ("电动自行车入户充电专项排查", "消防通道占用清理", "出租房屋信息核查", "燃气安全入户宣传",
               "高层建筑消防设施检查", "沿街商户门前三包检查", "反诈宣传进楼栋", "安全隐患回头看")
OUTREACH_TOPICS = ("消防安全", "电动自行车安全充电", "反电信网络诈骗", "民法典进社区", "燃气安全", "矛盾纠纷多元化解")
PETITION_TOPICS = {
    "property_management": "反映物业服务问题，请求协调解决。",
    "noise": "反映夜间噪音扰民。",
    "facility_repair": "反映楼内设施损坏，请求维修。",
    "parking": "反映车位管理问题。",
    "rent": "反映租赁合同纠纷。",
}
CHANNELS = ("online", "phone", "visit")


class Casework:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        w = ctx.world
        self.last_report: dict[str, int] = {}
        self.landlord_next = ctx.start
        self.hazard_places = [p for p in w.all_corridors if p.id not in RESERVED_LOCATIONS]
        self.hazard_places += [p for b in w.buildings for p in w.basement[b]]
        self.hazard_places += [p for p in w.all_shops if p.id not in RESERVED_LOCATIONS]
        self.warned: dict[str, int] = {}

    def day(self, c0: int, c1: int) -> None:
        ctx = self.ctx
        weekday = ctx.local_weekday(c0 + 12 * HOUR) < 5
        for t in ctx.hours(c0, EVENING_CALLS, ctx.poisson(DISPUTES_PER_DAY)):
            self._dispute(t)
        for t in ctx.hours(c0, OFFICE_HOURS, ctx.poisson(HAZARDS_PER_DAY)):
            self._hazard(t)
        for t in ctx.hours(c0, OFFICE_HOURS, ctx.poisson(3.0 if weekday else 0.5)):
            self._inspection(t)
        for t in ctx.hours(c0, OFFICE_HOURS, ctx.poisson(0.8 if weekday else 0.0)):
            self._task(t)
        for t in ctx.hours(c0, OFFICE_HOURS, ctx.poisson(0.3)):
            self._outreach(t)
        for t in ctx.hours(c0, EVENING_CALLS, ctx.poisson(PETITIONS_PER_DAY)):
            self._petition(t)

    # ------------------------------------------------------------------ disputes
    def _free_person(self, t: int, exclude: str | None = None) -> str | None:
        rng = self.ctx.rng
        for _ in range(8):
            p = rng.choice(BACKGROUND_PERSONS)
            last = self.last_report.get(p)
            if p != exclude and (last is None or t - last >= PERSON_COOLDOWN):
                return p
        return None

    def _dispute(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        tag = rng.choices(list(DISPUTE_TAGS), weights=DISPUTE_WEIGHTS)[0]
        a = self._free_person(t)
        if a is None:
            return
        if tag == "rent_arrears":
            if t < self.landlord_next:
                return
            self.landlord_next = t + LANDLORD_COOLDOWN
            other = business(LANDLORD, "party")
        else:
            b = self._free_person(t, exclude=a)
            if b is None:
                return
            self.last_report[b] = t
            other = person(b, "party")
        self.last_report[a] = t
        subjects = [person(a, "party"), other]
        case_id = ctx.new_id("MD", t)
        place = ctx.world.homes[a]

        def push(when: int, type_: str, severity: int, attrs: dict, text: str) -> None:
            ctx.push(when, "dispute", type_, "mediation", location=place.loc(),
                     subjects=[dict(s) for s in subjects], severity=severity, tags=[tag],
                     attributes={"case_id": case_id, **attrs}, text=text, meta=PROTECTED)

        severity = rng.choice((1, 2, 2, 3))
        push(t, "reported", severity, {"channel": rng.choice(("grid_worker", "hotline", "walk_in"))},
             DISPUTE_TAGS[tag])
        t2 = ctx.office(t + rng.randint(12 * HOUR, 3 * DAY))
        if rng.random() < 0.8:
            push(t2, "mediation_held", severity, {"outcome": "agreed"}, "经社区调解，双方达成一致。")
            push(ctx.office(t2 + rng.randint(HOUR, 36 * HOUR)), "resolved", severity, {}, "调解协议已履行，纠纷化解。")
        else:
            push(t2, "mediation_held", severity, {"outcome": "failed"}, "调解未达成一致，告知其他解决途径。")
            push(ctx.office(t2 + rng.randint(12 * HOUR, 2 * DAY)), "referred", severity,
                 {"referred_to": rng.choice(REFERRED_TO)}, "已引导当事人通过法律途径解决。")

    # ------------------------------------------------------------------ hazards
    def _hazard(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        category = rng.choices(list(HAZARD_TYPES), weights=HAZARD_WEIGHTS)[0]
        due_days, kinds = HAZARD_TYPES[category]
        tag, note = rng.choice(kinds)
        place = rng.choice(self.hazard_places)
        hazard_id = ctx.new_id("HZ", t)
        due = t + due_days * DAY
        found = {"hazard_id": hazard_id, "category": category, "due_at": ctx.iso(due)}

        def push(when: int, type_: str, text: str, **extra) -> None:
            ctx.push(when, "hazard", type_, "patrol-app", location=place.loc(), tags=[tag],
                     attributes={"hazard_id": hazard_id, "category": category, **extra}, text=text, meta=PROTECTED)

        ctx.push(t, "hazard", "found", "patrol-app", location=place.loc(),
                 severity=rng.choices((1, 2, 3, 4), weights=(30, 40, 25, 5))[0], tags=[tag],
                 attributes=found, text=note, meta=PROTECTED)
        if rng.random() < 0.85 or due_days * DAY >= HAZARD_MAX_OPEN:
            fixed = t + min(int((due - t) * rng.uniform(0.2, 0.95)), HAZARD_MAX_OPEN)
        else:  # late, but still well before anything would count as "open for 3 days"
            fixed = due + rng.randint(2 * HOUR, HAZARD_MAX_OPEN - due_days * DAY)
        push(fixed, "rectified", "已完成整改。")
        checked = ctx.office(fixed + rng.randint(4 * HOUR, 36 * HOUR))
        push(checked, "verified", "复查合格。")
        again = checked + rng.randint(12 * HOUR, 2 * DAY)
        if rng.random() < 0.08 and ctx.claim(place.id, again):  # a reopened hazard carries a score
            push(again, "reopened", "复查发现问题反弹，重新整改。")
            push(again + rng.randint(4 * HOUR, 36 * HOUR), "rectified", "已再次整改。")

    # ------------------------------------------------------------------ inspection and enforcement
    def _inspection(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        biz = rng.choice(ctx.world.background_businesses)
        findings = rng.choices((0, 1, 2, 3), weights=(65, 20, 10, 5))[0]
        ctx.push(t, "inspection", "unit_inspected", "enforcement-app", location=biz.place.loc(),
                 subjects=[business(biz.id, "operator")],
                 attributes={"inspection_type": rng.choice(INSPECTION_TYPES), "business_type": biz.kind,
                             "findings": findings, "result": "合格" if findings == 0 else "限期整改"})
        if findings == 0 or rng.random() >= 0.35:
            return
        when = t + rng.randint(20 * MINUTE, 3 * HOUR)
        warned = self.warned.get(biz.id)
        repeated = warned is not None and t - warned < 30 * DAY
        if (repeated or findings == 3) and rng.random() < 0.5:  # after a warning, or a serious finding
            ctx.push(when, "enforcement", "penalty_issued", "enforcement-app", location=biz.place.loc(),
                     subjects=[business(biz.id, "operator")], severity=2,
                     attributes={"decision_no": ctx.new_id("CF", when),
                                 "amount_yuan": rng.choice((500, 1000, 2000, 3000, 5000))},
                     text="逾期未整改或存在严重隐患，依法作出行政处罚。")
            self.warned.pop(biz.id, None)
        elif warned is None or t - warned >= 14 * DAY:
            self.warned[biz.id] = when
            ctx.push(when, "enforcement", "warning_issued", "enforcement-app", location=biz.place.loc(),
                     subjects=[business(biz.id, "operator")], severity=1,
                     attributes={"notice_no": ctx.new_id("JG", when), "findings": findings},
                     text="下达责令限期整改通知书。")

    def _task(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        task_id = ctx.new_id("RW", t)
        due = t + rng.randint(2, 7) * DAY
        title = rng.choice(TASK_TITLES)
        ctx.push(t, "inspection", "task_published", "enforcement-app",
                 attributes={"task_id": task_id, "title": title, "due_at": ctx.iso(due)}, meta=PROTECTED)
        if rng.random() < 0.9:
            done = ctx.office(t + int((due - t) * rng.uniform(0.2, 0.8)))
            ctx.push(done, "inspection", "task_completed", "enforcement-app",
                     attributes={"task_id": task_id, "title": title}, meta=PROTECTED)

    def _outreach(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        lobby = ctx.world.lobbies[rng.choice(ctx.world.buildings)]
        ctx.push(t, "outreach", "publicity_session", "community", location=lobby.loc(),
                 attributes={"topic": rng.choice(OUTREACH_TOPICS), "audience": rng.randint(15, 80)})

    # ------------------------------------------------------------------ petitions
    def _petition(self, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        p = rng.choice(BACKGROUND_PERSONS)
        topic = rng.choice(list(PETITION_TOPICS))
        channel = rng.choices(CHANNELS, weights=(50, 30, 20))[0]
        petition(ctx, t, p, topic, channel, PROTECTED)


def petition(ctx: Ctx, t: int, pid: str, topic: str, channel: str, meta: str) -> None:
    """A petition and, usually, its reply (1 h to 5 days later). The complainant is never scored."""
    rng = ctx.rng
    petition_id = ctx.new_id("XF", t)
    # no location: a petition is about its filer's concern, not a place to be scored
    ctx.push(t, "petition", "received", "petition", subjects=[person(pid, "complainant")],
             tags=[topic], attributes={"petition_id": petition_id, "channel": channel},
             text=PETITION_TOPICS[topic], meta=meta)
    if rng.random() < 0.95:
        ctx.push(ctx.office(t + rng.randint(HOUR, 5 * DAY)), "petition", "replied", "petition",
                 subjects=[person(pid, "complainant")], tags=[topic],
                 attributes={"petition_id": petition_id, "channel": channel}, text="已答复并告知办理结果。",
                 meta=meta)
