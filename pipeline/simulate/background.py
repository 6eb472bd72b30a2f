"""Monitoring background (source sensor-gw): low-rate noise spread over many places.

Rates are per day. The noise is shaped so that it never forms a scenario pattern, and so that noise
alone never lifts a place to `high` under the default rules:
- a place gets at most one score-carrying background event (smoke alarm, e-bike charging, blocked fire
  exit, forced door, serious patrol issue, reopened hazard) in 28 days (`Ctx.claim`), so a single one
  may make it `medium` for a few days but two never add up;
- device_offline: at most 2 per place in any 24 hours (a rule may count 3 in 24 h);
- severities: crowd_gathering, gas_alarm and water_leak <= 2, smoke and e-bike <= 3, so rules with
  severity >= 3 thresholds on those types see no background; the scenarios' alarms are severity 4;
- fire_exit_blocked: at most one per building in 3 days, none in building 2 around S3;
- access_forced: at most one per building in 3 days, none in building 1 around S6;
- nothing at the places the scenarios use (area_model.RESERVED_LOCATIONS).
"""

from __future__ import annotations

from pipeline.simulate.area_model import RESERVED_LOCATIONS, Place
from pipeline.simulate.core import DAY, Ctx

SOURCE = "sensor-gw"

RATES = {
    "device_offline": 3000,  # attempts; the 2-in-24h cap per place keeps about 40 % of them
    "smoke_alarm": 8,
    "crowd_gathering": 90,
    "ebike_indoor_charging": 8,
    "gas_alarm": 8,
    "water_leak": 6,
}
OFFLINE_PER_DAY_CAP = 2
FIRE_EXIT_DAILY_P = 0.3
ACCESS_FORCED_DAILY_P = 0.15
RARE_MIN_GAP = 3 * DAY

FLAT = [1.0] * 24
MEALS = [1, 1, 1, 1, 1, 2, 5, 8, 6, 2, 3, 8, 9, 4, 2, 2, 3, 8, 10, 9, 5, 3, 2, 1]
EVENING = [4, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 2, 3, 6, 9, 10, 10, 9, 6]
BUSY = [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 1, 5, 6, 3, 2, 4, 5, 3, 2, 2, 3, 5, 6, 5, 4, 2, 1, 0.5]
SHOP_HOURS = [0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 2, 2, 3, 6, 6, 3, 2, 2, 3, 6, 7, 5, 3, 2, 1, 0.3]
NIGHT = [8, 9, 9, 8, 6, 3, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1, 1, 2, 3, 5, 7]

SMOKE_CAUSES = ("cooking_fumes", "steam", "dust", "unknown")
FIRE_EXIT_NOTES = ("安全出口被杂物堵塞。", "安全出口门被锁闭。", "疏散通道停放车辆。")
ACCESS_NOTES = ("门禁被强行开启。", "门禁长时间未关闭并触发报警。")


class Monitoring:
    def __init__(self, ctx: Ctx):
        self.ctx = ctx
        w = ctx.world
        self.devices = [(d, p) for d, p in w.devices if p.id not in RESERVED_LOCATIONS]
        self.units = [p for p in w.all_units if p.id not in RESERVED_LOCATIONS]
        self.corridors = [p for b in w.buildings for p in w.corridors[b]
                          if p.floor >= 2 and p.id not in RESERVED_LOCATIONS]
        self.smoke_sensors = [(s.id, p) for s, p in w.sensors.get("smoke", []) if p.id not in RESERVED_LOCATIONS]
        self.gas_sensors = [(s.id, p) for s, p in w.sensors.get("gas", []) if p.id not in RESERVED_LOCATIONS]
        self.water_sensors = [(s.id, p) for s, p in w.sensors.get("water", [])]
        self.elevator_cams = {
            b: [s.id for s, _ in w.sensors.get("ebike", []) if s.building == b] or [f"EBK-{b}"] for b in w.buildings
        }
        self.crowd_places = [w.lobbies[b] for b in w.buildings]
        self.crowd_places += [p for _, p in w.sensors.get("ebike", []) if p.id not in [x.id for x in self.crowd_places]]
        self.crowd_places += [p for p in w.all_shops if p.id not in RESERVED_LOCATIONS]
        self.crowd_places += [p for b in w.buildings for p in w.basement[b][:1]]
        self.fire_exits = {b: [(s.id, p) for s, p in w.sensors.get("fire_exit", []) if s.building == b] for b in w.buildings}
        self.doors = {b: [(s.id, p) for s, p in w.sensors.get("door", []) if s.building == b] for b in w.buildings}
        self.offline: dict[str, tuple[int, ...]] = {}
        self.next_fire_exit = {b: ctx.start for b in w.buildings}
        self.next_access = {b: ctx.start for b in w.buildings}
        # (type, building) -> list of (from, until) with no background events of that type (set by scenarios)
        self.blackouts: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def _blacked_out(self, type_: str, building: str, t: int) -> bool:
        return any(a <= t < b for a, b in self.blackouts.get((type_, building), ()))

    def _count(self, type_: str) -> int:
        rate = RATES[type_]
        return round(rate * self.ctx.rng.uniform(0.85, 1.15))

    def _push(self, t: int, type_: str, place: Place, severity: int, attributes: dict, **kw) -> None:
        self.ctx.push(
            t, "monitoring", type_, SOURCE,
            reported_after=self.ctx.rng.randint(1, 20),
            location=place.loc(), severity=severity, attributes=attributes, **kw,
        )

    def day(self, c0: int, c1: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        sev = rng.choices

        for t in ctx.hours(c0, EVENING, self._count("ebike_indoor_charging")):
            for _ in range(5):
                if rng.random() < 0.7:
                    place = rng.choice(self.units)
                    attrs: dict[str, str | int] = {"device_id": f"MTR-{place.building}-{place.unit}",
                                                   "method": "smart_meter"}
                else:
                    place = rng.choice(self.corridors)
                    attrs = {"device_id": rng.choice(self.elevator_cams[place.building]), "method": "elevator_camera"}
                if ctx.claim(place.id, t):
                    attrs["charging_minutes"] = rng.randint(15, 240)
                    self._push(t, "ebike_indoor_charging", place, sev((2, 3), (70, 30))[0], attrs)
                    break

        for t in ctx.hours(c0, MEALS, self._count("smoke_alarm")):
            for _ in range(5):
                if rng.random() < 0.7:
                    place = rng.choice(self.units)
                    device, severity = f"USD-{place.building}-{place.unit}", sev((1, 2, 3), (70, 28, 2))[0]
                else:
                    device, place = rng.choice(self.smoke_sensors)
                    severity = sev((1, 2, 3), (60, 35, 5))[0]
                if ctx.claim(place.id, t):
                    self._push(t, "smoke_alarm", place, severity,
                               {"device_id": device, "cause": rng.choice(SMOKE_CAUSES), "cleared": True})
                    break

        for t in ctx.hours(c0, BUSY, self._count("crowd_gathering")):
            place = rng.choice(self.crowd_places)
            self._push(t, "crowd_gathering", place, sev((1, 2), (80, 20))[0], {"people": rng.randint(12, 40)})

        if self.gas_sensors:
            for t in ctx.hours(c0, SHOP_HOURS, self._count("gas_alarm")):
                device, place = rng.choice(self.gas_sensors)
                self._push(t, "gas_alarm", place, sev((1, 2), (75, 25))[0],
                           {"device_id": device, "concentration_lel": rng.randint(3, 9)})

        if self.water_sensors:
            for t in ctx.hours(c0, FLAT, self._count("water_leak")):
                device, place = rng.choice(self.water_sensors)
                self._push(t, "water_leak", place, sev((1, 2), (70, 30))[0], {"device_id": device})

        for b in ctx.world.buildings:
            self._rare(b, c0, "fire_exit_blocked", FIRE_EXIT_DAILY_P, self.fire_exits[b], self.next_fire_exit,
                       FIRE_EXIT_NOTES)
            self._rare(b, c0, "access_forced", ACCESS_FORCED_DAILY_P, self.doors[b], self.next_access,
                       ACCESS_NOTES)

        devices, offline = self.devices, self.offline
        for t in ctx.hours(c0, FLAT, self._count("device_offline")):
            device, place = devices[rng.randrange(len(devices))]
            recent = offline.get(place.id, ())
            if len(recent) >= OFFLINE_PER_DAY_CAP and t - recent[0] < DAY:
                continue  # a third within 24 h at one place would look like a failing installation
            offline[place.id] = (*recent[1 - OFFLINE_PER_DAY_CAP:], t) if recent else (t,)
            self._push(t, "device_offline", place, 1, {"device_id": device, "offline_minutes": rng.randint(3, 180)})

    def _rare(self, b: str, c0: int, type_: str, p: float, sensors: list, next_allowed: dict, notes) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        if not sensors or rng.random() >= p:
            return
        t = ctx.hours(c0, NIGHT if type_ == "access_forced" else BUSY, 1)[0]
        if t < next_allowed[b] or self._blacked_out(type_, b, t):
            return
        device, place = rng.choice(sensors)
        if not ctx.claim(place.id, t):
            return
        next_allowed[b] = t + RARE_MIN_GAP
        self._push(t, type_, place, rng.choice((2, 3)), {"device_id": device}, text=rng.choice(notes))
