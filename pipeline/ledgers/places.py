"""楼栋 and 地点 cells matched to config/area.yaml (docs/contract.md §10).

A building is named by its key (`1`), as `1号楼` (or 栋/幢/座) or by its name (`虹都中心1号楼`); a value
matching none is a bad row. A place is matched to a location id or to the name of a checkpoint or sensor
when it can be; otherwise it stays free text on the event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.area import Area
from pipeline.ledgers.values import CellError, compact

_NUMBERED = re.compile(r"(?P<n>[0-9A-Za-z]+)(?:号楼|号|栋|幢|座|楼)")
_LOCATION_ID = re.compile(r"HD-(?P<b>[0-9A-Za-z]+)-[0-9A-Za-z-]+")


@dataclass(frozen=True)
class Place:
    id: str | None          # a location id when the cell names a known place
    building: str | None
    text: str | None        # the cell as written when it names no known place


class Places:
    """Lookups built once per import from the area."""

    def __init__(self, area: Area):
        self._buildings: dict[str, str] = {}
        for key, building in area.buildings.items():
            self._buildings[compact(key)] = key
            self._buildings[compact(building.name)] = key
            self._buildings[f"{compact(key)}号楼"] = key
        self._places: dict[str, tuple[str, str]] = {}
        for cp in area.checkpoints:
            spot = cp.location or cp.id
            for word in (cp.id, cp.name, cp.location):
                if word:
                    self._places[compact(word)] = (spot, cp.building)
        for sensor in area.sensors:
            for word in (sensor.location, sensor.name):
                if word:
                    self._places[compact(word)] = (sensor.location, sensor.building)
        self._known = set(area.buildings)

    def building(self, value: object) -> str:
        text = compact(value)
        key = self._buildings.get(text)
        if key is None:
            m = _NUMBERED.fullmatch(text)
            key = self._buildings.get(m["n"]) if m else None
        if key is None:
            choices = "、".join(f"{k}号楼" for k in sorted(self._known))
            raise CellError(f"楼栋“{text[:40]}”不在本辖区（应为 {choices}）")
        return key

    def place(self, value: object) -> Place:
        text = compact(value)
        hit = self._places.get(text)
        if hit is not None:
            return Place(hit[0], hit[1], None)
        m = _LOCATION_ID.fullmatch(text)
        if m and m["b"] in self._known:
            return Place(text, m["b"], None)
        return Place(None, None, " ".join(str(value).split()))
