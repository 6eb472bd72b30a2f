"""The simulated world behind `config/area.yaml`: places with location ids, devices, businesses, persons.

Everything here is derived from the Area and a fixed world seed, so the same area always yields the
same world whatever the simulation seed: B-0012 is the same shop in every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipeline.area import Area, Checkpoint, Sensor

# Ids reserved for the injected scenarios and quiet entities (scenarios.py); background never uses them.
SCENARIO_PERSONS = ("P-0101", "P-0111", "P-0112", "P-0201", "P-0202", "P-0203")
LANDLORD = "B-0003"  # apartment leasing company: the business party of rent disputes
QUIET_BUSINESS = "B-0009"
# Places the scenarios use; background events never happen there, so each scenario stays the only
# pattern at its place.
RESERVED_LOCATIONS = frozenset(
    {"HD-1-1203", "HD-1-1507", "HD-1-1607", "HD-1-1508", "HD-2-0807", "HD-2-01-S02", "HD-2-09-corridor"}
)
BACKGROUND_PERSONS = tuple(f"P-{i:04d}" for i in range(1, 81))
N_BUSINESSES = 30

SHOP_TYPES = ("便利店", "餐饮", "餐饮", "美发", "餐饮", "药店", "快递驿站", "烟酒店")
SHOP_TYPES_2 = ("便利店", "餐饮", "餐饮", "洗衣店", "电动车维修", "棋牌室")
OFFICE_TYPES = ("电商工作室", "培训机构", "家政公司", "民宿", "网络科技公司", "财税代理", "美甲工作室", "直播工作室")


def floor_code(floor: int) -> str:
    return f"B{-floor}" if floor < 0 else f"{floor:02d}"


@dataclass(frozen=True)
class Place:
    id: str
    building: str
    floor: int
    unit: str | None = None
    checkpoint: str | None = None

    def loc(self) -> dict:
        """A fresh `location` object for an event (never shared between events)."""
        d = {"id": self.id, "building": self.building, "floor": self.floor}
        if self.unit is not None:
            d["unit"] = self.unit
        if self.checkpoint is not None:
            d["checkpoint"] = self.checkpoint
        return d


def common(building: str, floor: int, name: str) -> Place:
    return Place(f"HD-{building}-{floor_code(floor)}-{name}", building, floor)


@dataclass(frozen=True)
class Business:
    id: str
    kind: str  # 业态, user-facing Chinese
    place: Place


class World:
    def __init__(self, area: Area):
        self.area = area
        self.buildings = list(area.buildings)
        self.units: dict[str, list[Place]] = {}
        self.corridors: dict[str, list[Place]] = {}
        self.shops: dict[str, list[Place]] = {}
        self.lobbies: dict[str, Place] = {}
        self.basement: dict[str, list[Place]] = {}
        for b, spec in area.buildings.items():
            # floor 1 is lobby and shops; apartments start on floor 2
            self.units[b] = [
                Place(f"HD-{b}-{f:02d}{u:02d}", b, f, unit=f"{f:02d}{u:02d}")
                for f in range(2, spec.floors + 1)
                for u in range(1, spec.units_per_floor + 1)
            ]
            self.corridors[b] = [common(b, f, "corridor") for f in range(1, spec.floors + 1)]
            self.shops[b] = [Place(f"HD-{b}-01-S{i:02d}", b, 1, unit=f"S{i:02d}") for i in range(1, spec.shops + 1)]
            self.lobbies[b] = common(b, 1, "lobby")
            self.basement[b] = [
                common(b, -1, name) for name in ("garage", "ebike", "pump")
            ] if spec.basement_floors else []
        self.all_units = [p for b in self.buildings for p in self.units[b]]
        self.all_corridors = [p for b in self.buildings for p in self.corridors[b]]
        self.all_shops = [p for b in self.buildings for p in self.shops[b]]

        self.routes: dict[str, list[tuple[Checkpoint, Place]]] = {b: [] for b in self.buildings}
        for cp in area.checkpoints:
            loc_id = cp.location or f"HD-{cp.building}-{floor_code(cp.floor)}-{cp.id.lower()}"
            self.routes[cp.building].append((cp, Place(loc_id, cp.building, cp.floor, checkpoint=cp.id)))

        self.sensors: dict[str, list[tuple[Sensor, Place]]] = {}
        for s in area.sensors:
            unit = s.location.rsplit("-", 1)[-1] if s.type == "gas" else None
            self.sensors.setdefault(s.type, []).append((s, Place(s.location, s.building, s.floor, unit=unit)))

        # Every device that can report device_offline: unit smoke detectors and smart meters, plus sensors.
        self.devices: list[tuple[str, Place]] = []
        for p in self.all_units:
            self.devices.append((f"USD-{p.building}-{p.unit}", p))
            self.devices.append((f"MTR-{p.building}-{p.unit}", p))
        for s in area.sensors:
            self.devices.append((s.id, Place(s.location, s.building, s.floor)))
        # per floor: a hydrant pressure sensor in the corridor and an emergency-lighting controller in
        # the stairwell (智慧消防 devices, not listed one by one in area.yaml)
        for b in self.buildings:
            for corridor in self.corridors[b]:
                f = corridor.floor
                self.devices.append((f"HYD-{b}-{f:02d}", corridor))
                self.devices.append((f"EML-{b}-{f:02d}", common(b, f, "stair")))

        self._build_population()

    def _build_population(self) -> None:
        rng = random.Random("riskwatch-world-v1")
        reserved = {LANDLORD, QUIET_BUSINESS}
        ids = (f"B-{i:04d}" for i in range(1, 10_000))
        self.businesses: dict[str, Business] = {}
        for b_index, b in enumerate(self.buildings):
            kinds = SHOP_TYPES if b_index == 0 else SHOP_TYPES_2
            for i, shop in enumerate(self.shops[b]):
                bid = next(x for x in ids if x not in reserved)
                self.businesses[bid] = Business(bid, kinds[i % len(kinds)], shop)
        offices = [p for p in self.all_units if p.floor in (2, 3) and p.id not in RESERVED_LOCATIONS]
        rng.shuffle(offices)
        self.businesses[LANDLORD] = Business(LANDLORD, "公寓租赁", offices.pop())
        self.businesses[QUIET_BUSINESS] = Business(QUIET_BUSINESS, "设计工作室", offices.pop())
        n = 0
        while len(self.businesses) < N_BUSINESSES and offices:
            bid = next(x for x in ids if x not in reserved)
            self.businesses[bid] = Business(bid, OFFICE_TYPES[n % len(OFFICE_TYPES)], offices.pop())
            n += 1
        self.businesses = dict(sorted(self.businesses.items()))
        # Background businesses for inspections and enforcement (the quiet one is left to its scenario).
        self.background_businesses = [b for b in self.businesses.values() if b.id != QUIET_BUSINESS]

        homes = [p for p in self.all_units if p.id not in RESERVED_LOCATIONS]
        rng.shuffle(homes)
        self.homes: dict[str, Place] = {p: homes[i % len(homes)] for i, p in enumerate(BACKGROUND_PERSONS)}
        self.places_by_id: dict[str, Place] = {}
        for group in (self.all_units, self.all_corridors, self.all_shops):
            for p in group:
                self.places_by_id[p.id] = p

    def place(self, loc_id: str) -> Place:
        return self.places_by_id[loc_id]

    def sensor(self, sensor_id: str) -> tuple[Sensor, Place]:
        for group in self.sensors.values():
            for s, p in group:
                if s.id == sensor_id:
                    return s, p
        raise KeyError(sensor_id)
