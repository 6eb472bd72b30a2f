"""Patrol (source patrol-app): one team per building per shift, rounds over the building's checkpoints.

Shifts: 白班 08:00–20:00, 夜班 20:00–08:00 (area-local). A shift opens with `patrol_started` and closes
with `patrol_finished` carrying the yearly-statistics counts (personnel, vehicles, roads, communities).
Rounds start every 30–60 minutes; a round walks the building's checkpoints in file order, 1.5–4 minutes
apart, so each checkpoint is normally visited at least every ~80 minutes, day and night. The one
exception is the S4 gap (`ctx.patrol_gap` = (checkpoint, from, length)): the first visit of that
checkpoint at or after `from` is its last one for `length` seconds (14 hours in one night).
"""

from __future__ import annotations

from datetime import datetime

from pipeline.simulate.core import DAY, HOUR, MINUTE, PROTECTED, Ctx

SOURCE = "patrol-app"
DAY_SHIFT_START = 8 * HOUR
NIGHT_SHIFT_START = 20 * HOUR
ISSUE_RATE = 0.02  # share of checkpoint visits that record an issue

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
    __slots__ = ("building", "route", "next_round", "shift_start", "shift_end", "patrol_id", "night", "visits")


class Patrol:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        self.teams: list[_Team] = []
        rng = ctx.rng
        for b in ctx.world.buildings:
            route = ctx.world.routes[b]
            if not route:
                continue
            team = _Team()
            team.building = b
            team.route = route
            team.next_round = ctx.start + rng.randint(2 * MINUTE, 15 * MINUTE)
            team.visits = {}
            self._open_shift(team, self._shift_containing(ctx.start), first=True)
            self.teams.append(team)
        self.gap_anchor: int | None = None  # time of the last visit before the S4 gap
        self.gap_done = False

    def _shift_containing(self, t: int) -> int:
        secs = self.ctx.local_secs(t)
        if DAY_SHIFT_START <= secs < NIGHT_SHIFT_START:
            return t - (secs - DAY_SHIFT_START)
        if secs >= NIGHT_SHIFT_START:
            return t - (secs - NIGHT_SHIFT_START)
        return t - (secs + DAY - NIGHT_SHIFT_START)

    def _open_shift(self, team: _Team, shift_start: int, first: bool = False) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        team.shift_start = shift_start
        team.shift_end = shift_start + 12 * HOUR
        team.night = ctx.local_secs(shift_start) == NIGHT_SHIFT_START
        day = datetime.fromtimestamp(shift_start, ctx.tz).strftime("%Y%m%d")
        team.patrol_id = f"PT-{day}-{team.building}-{'N' if team.night else 'D'}"
        t = max(shift_start, ctx.start) + rng.randint(MINUTE, 5 * MINUTE)
        lobby = team.route[0][1]
        ctx.push(
            t, "patrol", "patrol_started", SOURCE,
            location={"id": lobby.id, "building": lobby.building, "floor": lobby.floor},
            attributes={"patrol_id": team.patrol_id, "shift": "夜班" if team.night else "白班",
                        "team": f"{team.building}号楼巡逻组"},
            meta=PROTECTED,
        )

    def _close_shift(self, team: _Team) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        t = team.shift_end - rng.randint(MINUTE, 8 * MINUTE)
        lobby = team.route[0][1]
        ctx.push(
            t, "patrol", "patrol_finished", SOURCE,
            location={"id": lobby.id, "building": lobby.building, "floor": lobby.floor},
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
        for team in self.teams:
            while team.next_round < c1:
                r = team.next_round
                while r >= team.shift_end:
                    self._close_shift(team)
                    self._open_shift(team, team.shift_end)
                self._round(team, r)
                team.next_round = r + self.ctx.rng.randint(30 * MINUTE, 60 * MINUTE)

    def _round(self, team: _Team, r: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        gap = ctx.patrol_gap
        t = r
        for cp, place in team.route:
            t += rng.randint(90, 240)
            meta = PROTECTED
            if gap is not None and cp.id == gap[0] and not self.gap_done:
                # S4: the first visit at or after the gap time is the last one for `gap[2]` seconds
                if self.gap_anchor is None:
                    if t >= gap[1]:
                        self.gap_anchor, meta = t, "S4"
                elif t < self.gap_anchor + gap[2]:
                    continue
                else:
                    self.gap_done, meta = True, "S4"
            body = ctx.push(
                t, "patrol", "checkpoint_visit", SOURCE,
                location=place.loc(),
                attributes={"patrol_id": team.patrol_id if t < team.shift_end else _next_id(team)},
                meta=meta,
            )
            if body is None:
                continue
            key = team.shift_start if t < team.shift_end else team.shift_end
            team.visits[key] = team.visits.get(key, 0) + 1
            if rng.random() < ISSUE_RATE:
                self._issue(team, place, t + rng.randint(30, 150))

    def _issue(self, team: _Team, place, t: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        tag, note, sev_weights = rng.choices(ISSUES, weights=ISSUE_WEIGHTS)[0]
        severity = rng.choices((1, 2, 3, 4), weights=sev_weights)[0]
        ctx.push(
            t, "patrol", "issue_found", SOURCE,
            location=place.loc(),
            severity=severity,
            tags=[tag],
            attributes={"patrol_id": team.patrol_id},
            text=note,
        )


def _next_id(team: _Team) -> str:
    """Patrol id of the shift after the team's current one (a round that runs over the hand-over)."""
    base = team.patrol_id[:-1]
    if team.night:
        # the night shift is dated by its start; the day shift after it starts the next calendar day
        d = datetime.strptime(team.patrol_id[3:11], "%Y%m%d").toordinal() + 1
        return f"PT-{datetime.fromordinal(d).strftime('%Y%m%d')}-{team.building}-D"
    return base + "N"
