"""Patrols over the checkpoints: the street's patrol team and the property's guard tour.

- Patrol team (source patrol-app), one per building and shift: 白班 08:00–20:00, 夜班 20:00–08:00
  (area-local). A shift opens with `patrol_started` and closes with `patrol_finished` carrying the
  yearly-statistics counts (personnel, vehicles, roads, communities). Rounds start every 30–60
  minutes and walk the building's checkpoints in file order, 1.5–4 minutes apart; issues seen on the
  way are recorded as `issue_found`.
- Guard tour (source guard-tour, 物业电子巡更): the property's security guards scan the same checkpoint
  tags on tours every 40–70 minutes; only `checkpoint_visit` events (no shifts: guards are not
  counted in the enforcement statistics).
Together each checkpoint is normally visited at least every ~70 minutes, day and night. The one
exception is the S4 gap (`ctx.patrol_gap` = (checkpoint, from, length)): nobody visits that checkpoint
in [from, from + length), 14 hours in one night. Patrol officers and guards are never subjects.
"""

from __future__ import annotations

from datetime import datetime

from pipeline.simulate.area_model import RESERVED_LOCATIONS, Checkpoint, Place
from pipeline.simulate.core import DAY, HOUR, MINUTE, PROTECTED, Ctx

SOURCE = "patrol-app"
GUARD_SOURCE = "guard-tour"
GAP_CANDIDATE = "S4?"  # a visit of the S4 checkpoint: the driver picks the two around the gap
DAY_SHIFT_START = 8 * HOUR
NIGHT_SHIFT_START = 20 * HOUR
ISSUE_RATE = 0.015  # share of patrol-team checkpoint visits that record an issue

# (tag, Chinese note, severity weights for 1..4)
ISSUES = (
    ("sundries_in_corridor", "走廊堆放杂物，已通知物业清理。", (50, 40, 10, 0)),
    ("ebike_in_corridor", "楼道内停放电动自行车，已劝离。", (30, 50, 18, 2)),
    ("fire_door_open", "常闭式防火门处于开启状态，已关闭。", (40, 45, 15, 0)),
    ("lighting_fault", "应急照明灯损坏，已报修。", (60, 35, 5, 0)),
    ("smoking_in_stairwell", "楼梯间有吸烟痕迹，已张贴禁烟提示。", (55, 40, 5, 0)),
    ("extinguisher_missing", "灭火器缺失或压力不足，已登记补充。", (20, 50, 27, 3)),
    ("flyer_posting", "楼道张贴小广告，已清理。", (80, 20, 0, 0)),
)
ISSUE_WEIGHTS = (30, 20, 15, 10, 10, 5, 10)


class _Team:
    __slots__ = ("building", "route", "guard", "next_round", "rounds", "shift_start", "shift_end", "patrol_id",
                 "night", "visits")
    building: str
    route: list[tuple[Checkpoint, Place]]
    guard: bool
    next_round: int
    rounds: int
    shift_start: int
    shift_end: int
    patrol_id: str
    night: bool
    visits: dict[int, int]      # shift start -> checkpoint visits in that shift


class Patrol:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.teams: list[_Team] = []
        rng = ctx.rng
        for guard in (False, True):
            for b in ctx.world.buildings:
                route = ctx.world.routes[b]
                if not route:
                    continue
                team = _Team()
                team.building, team.route, team.guard = b, route, guard
                team.next_round = ctx.start + rng.randint(2 * MINUTE, 40 * MINUTE if guard else 15 * MINUTE)
                team.rounds = 0
                team.visits = {}
                if not guard:
                    self._open_shift(team, self._shift_containing(ctx.start))
                self.teams.append(team)

    def _shift_containing(self, t: int) -> int:
        secs = self.ctx.local_secs(t)
        if DAY_SHIFT_START <= secs < NIGHT_SHIFT_START:
            return t - (secs - DAY_SHIFT_START)
        if secs >= NIGHT_SHIFT_START:
            return t - (secs - NIGHT_SHIFT_START)
        return t - (secs + DAY - NIGHT_SHIFT_START)

    def _open_shift(self, team: _Team, shift_start: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        team.shift_start = shift_start
        team.shift_end = shift_start + 12 * HOUR
        team.night = ctx.local_secs(shift_start) == NIGHT_SHIFT_START
        day = datetime.fromtimestamp(shift_start, ctx.tz).strftime("%Y%m%d")
        team.patrol_id = f"PT-{day}-{team.building}-{'N' if team.night else 'D'}"
        t = max(shift_start, ctx.start) + rng.randint(MINUTE, 5 * MINUTE)
        ctx.push(
            t, "patrol", "patrol_started", SOURCE,
            location=_lobby(team),
            attributes={"patrol_id": team.patrol_id, "shift": "夜班" if team.night else "白班",
                        "team": f"{team.building}号楼巡逻组"},
            meta=PROTECTED,
        )

    def _close_shift(self, team: _Team) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        t = team.shift_end - rng.randint(MINUTE, 8 * MINUTE)
        ctx.push(
            t, "patrol", "patrol_finished", SOURCE,
            location=_lobby(team),
            attributes={
                "patrol_id": team.patrol_id,
                "shift": "夜班" if team.night else "白班",
                "personnel": rng.randint(2, 3) if team.night else rng.randint(3, 4),
                "vehicles": 1 if team.night else rng.randint(0, 1),
                "roads": rng.randint(2, 5),
                "communities": rng.randint(1, 2),
                "checkpoints_visited": team.visits.pop(team.shift_start, 0),
            },
            meta=PROTECTED,
        )

    def day(self, c0: int, c1: int) -> None:
        rng = self.ctx.rng
        for team in self.teams:
            while team.next_round < c1:
                r = team.next_round
                if team.guard:
                    self._round(team, r)
                    team.next_round = r + rng.randint(40 * MINUTE, 70 * MINUTE)
                    continue
                while r >= team.shift_end:
                    self._close_shift(team)
                    self._open_shift(team, team.shift_end)
                self._round(team, r)
                team.next_round = r + rng.randint(30 * MINUTE, 60 * MINUTE)

    def _round(self, team: _Team, r: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        gap = ctx.patrol_gap
        team.rounds += 1
        if team.guard:
            day = datetime.fromtimestamp(r, ctx.tz).strftime("%Y%m%d")
            attributes = {"tour_id": f"GT-{day}-{team.building}-{team.rounds:05d}", "team": "物业保安"}
        t = r
        for cp, place in team.route:
            t += rng.randint(90, 240)
            meta = PROTECTED
            if gap is not None and cp.id == gap[0]:
                if gap[1] <= t < gap[1] + gap[2]:
                    continue  # S4: nobody goes there in the window
                meta = GAP_CANDIDATE
            if team.guard:
                ctx.push(t, "patrol", "checkpoint_visit", GUARD_SOURCE, location=place.loc(),
                         attributes=dict(attributes), meta=meta)
                continue
            patrol_id = team.patrol_id if t < team.shift_end else _next_id(team)
            body = ctx.push(t, "patrol", "checkpoint_visit", SOURCE, location=place.loc(),
                            attributes={"patrol_id": patrol_id}, meta=meta)
            if body is None:
                continue
            key = team.shift_start if t < team.shift_end else team.shift_end
            team.visits[key] = team.visits.get(key, 0) + 1
            if rng.random() < ISSUE_RATE:
                self._issue(team, place, t + rng.randint(30, 150))

    def _issue(self, team: _Team, place, t: int) -> None:
        """An issue seen on the round: at the checkpoint, or on a floor walked on the way."""
        ctx, rng = self.ctx, self.ctx.rng
        tag, note, sev_weights = rng.choices(ISSUES, weights=ISSUE_WEIGHTS)[0]
        severity = rng.choices((1, 2, 3, 4), weights=sev_weights)[0]
        if rng.random() < 0.5:
            corridors = [p for p in ctx.world.corridors[team.building]
                         if p.floor >= 2 and p.id not in RESERVED_LOCATIONS]
            place = rng.choice(corridors)
        # serious issues and e-bikes in corridors carry a score: one per place in 28 days (Ctx.claim)
        if (severity >= 3 or tag == "ebike_in_corridor") and not ctx.claim(place.id, t):
            return
        ctx.push(
            t, "patrol", "issue_found", SOURCE,
            location=place.loc(),
            severity=severity,
            tags=[tag],
            attributes={"patrol_id": team.patrol_id},
            text=note,
        )


def _lobby(team: _Team) -> dict:
    first = team.route[0][1]
    return {"id": first.id, "building": first.building, "floor": first.floor}


def _next_id(team: _Team) -> str:
    """Patrol id of the shift after the team's current one (a round that runs over the hand-over)."""
    if team.night:
        # the night shift is dated by its start; the day shift after it starts the next calendar day
        d = datetime.strptime(team.patrol_id[3:11], "%Y%m%d").toordinal() + 1
        return f"PT-{datetime.fromordinal(d).strftime('%Y%m%d')}-{team.building}-D"
    return team.patrol_id[:-1] + "N"
