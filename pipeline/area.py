"""The monitored area (`config/area.yaml`): buildings, patrol checkpoints, sensors and criticality.

`load_area(path)` refuses a broken file as a whole with every problem listed (structure, duplicate
YAML keys and cross-references), each naming the file and the dotted key. `Area.multiplier` is the
docs/contract.md §4 criticality lookup the engine calls for every contribution, so it is a couple of dict lookups.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from pipeline.config_errors import ConfigError, ConfigIssue, issues_from_validation_error, safe_loader

DEFAULT_AREA_FILE = Path(__file__).resolve().parent.parent / "config" / "area.yaml"

ENTITY_TARGETS = ("person", "business", "location", "building", "checkpoint")
SENSOR_TYPES = ("smoke", "gas", "ebike", "fire_exit", "door", "water")
# Targets whose entities inherit their building's multiplier (docs/contract.md §4).
_INHERITING = ("location:", "checkpoint:")
_ENTITY_REF = re.compile(r"^([a-z]+):([A-Za-z0-9._:-]{1,128})$")


def _int_to_str(value: Any) -> Any:
    # `1: {...}` and `building: 1` unquoted are meant as building "1".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


BuildingId = Annotated[str, BeforeValidator(_int_to_str), Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Building(_Model):
    name: Name
    floors: int = Field(ge=1, le=300)
    units_per_floor: int = Field(ge=1, le=99)
    type: Name
    basement_floors: int = Field(0, ge=0, le=20, description="B1 is floor -1")
    shops: int = Field(0, ge=0, le=99, description="ground-floor shops HD-<b>-01-S01..")
    description: str | None = None

    def has_floor(self, floor: int) -> bool:
        return 1 <= floor <= self.floors or -self.basement_floors <= floor <= -1


class Checkpoint(_Model):
    id: Key
    building: BuildingId
    floor: int
    name: Name
    location: Key | None = Field(None, description="location id of the place the checkpoint tag is at")
    description: str | None = None


class Sensor(_Model):
    id: Key
    type: Literal["smoke", "gas", "ebike", "fire_exit", "door", "water"]
    building: BuildingId
    floor: int
    location: Key
    name: str | None = None
    description: str | None = None


class Area(_Model):
    version: Literal[1]
    name: Name
    street: Name
    community: Name
    timezone: Name
    description: str | None = None
    buildings: dict[BuildingId, Building] = Field(min_length=1)
    checkpoints: list[Checkpoint] = Field(default_factory=list)
    sensors: list[Sensor] = Field(default_factory=list)
    criticality: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(default_factory=dict)

    _mult: dict[str, float] = PrivateAttr(default_factory=dict)
    _building_mult: dict[str, float] = PrivateAttr(default_factory=dict)
    _owner: dict[str, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._mult = dict(self.criticality)
        self._building_mult = {
            ref[len("building:"):]: value for ref, value in self.criticality.items() if ref.startswith("building:")
        }
        owner: dict[str, str] = {}
        for cp in self.checkpoints:
            owner[f"checkpoint:{cp.id}"] = cp.building
            if cp.location:
                owner[f"location:{cp.location}"] = cp.building
        for sensor in self.sensors:
            owner[f"location:{sensor.location}"] = sensor.building
        self._owner = owner

    def multiplier(self, entity_ref: str, building: str | None = None) -> float:
        """docs/contract.md §4: the entity's own criticality, else (location/checkpoint) its building's, else 1.0.

        `building` is the event's `location.building`; when it is None the building of a known
        checkpoint or listed location is used.
        """
        own = self._mult.get(entity_ref)
        if own is not None:
            return own
        if entity_ref.startswith(_INHERITING):
            if building is None:
                building = self._owner.get(entity_ref)
            if building is not None:
                return self._building_mult.get(building, 1.0)
        return 1.0

    def building_of(self, entity_ref: str) -> str | None:
        """The building this file places a checkpoint or a listed location (checkpoint and sensor places) in."""
        return self._owner.get(entity_ref)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def checkpoints_of(self, building: str) -> list[Checkpoint]:
        return [cp for cp in self.checkpoints if cp.building == building]

    def sensors_of(self, building: str, type_: str | None = None) -> list[Sensor]:
        return [s for s in self.sensors if s.building == building and (type_ is None or s.type == type_)]


# ---------------------------------------------------------------------------------------- loading


def load_area(path: str | Path = DEFAULT_AREA_FILE) -> Area:
    """Load and check `area.yaml`; raise ConfigError listing every problem (file + dotted key)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, "(file)", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(name, "(file)", f"not UTF-8: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=safe_loader())
        data = yaml.load(text, Loader=safe_loader())
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(name, "(file)", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(name, "(root)", "must be a mapping")])

    issues = [ConfigIssue(name, key, f"duplicate key (line {line})") for key, line in _duplicate_keys(node)]
    area = None
    try:
        area = Area.model_validate(data)
    except ValidationError as exc:
        issues.extend(issues_from_validation_error(name, exc))
    issues.extend(_cross_references(name, data))
    if issues or area is None:
        raise ConfigError(issues)
    return area


def _duplicate_keys(node, path: str = "") -> list[tuple[str, int]]:
    """YAML silently keeps the last of two equal keys; a config file with one is refused instead."""
    found: list[tuple[str, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            sub = f"{path}.{key}" if path else key
            if key in seen:
                found.append((sub, key_node.start_mark.line + 1))
            seen.add(key)
            found.extend(_duplicate_keys(value_node, sub))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, f"{path}.{i}" if path else str(i)))
    return found


def _cross_references(name: str, data: dict) -> list[ConfigIssue]:
    """Checks between sections, run on the raw mapping so they are reported with the structural ones.

    A value that is not even of the right type is left to the model's error and not reported twice.
    """
    issues: list[ConfigIssue] = []

    tz = data.get("timezone")
    if isinstance(tz, str) and tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            issues.append(ConfigIssue(name, "timezone", f"unknown time zone {tz!r} (IANA name, e.g. Asia/Shanghai)"))

    raw_buildings = data.get("buildings")
    buildings: dict[str, dict] = {}
    if isinstance(raw_buildings, dict):
        buildings = {str(_int_to_str(k)): v for k, v in raw_buildings.items() if isinstance(v, dict)}

    def check_place(section: str, i: int, item: dict) -> None:
        b = _int_to_str(item.get("building"))
        if not isinstance(b, str):
            return
        if b not in buildings:
            known = ", ".join(sorted(buildings)) or "none"
            issues.append(ConfigIssue(name, f"{section}.{i}.building", f"unknown building {b!r} (known: {known})"))
            return
        floor = item.get("floor")
        spec = buildings[b]
        floors, basements = spec.get("floors"), spec.get("basement_floors", 0)
        if (
            isinstance(floor, int)
            and not isinstance(floor, bool)
            and isinstance(floors, int)
            and floors >= 1
            and isinstance(basements, int)
            and basements >= 0
            and not (1 <= floor <= floors or -basements <= floor <= -1)
        ):
            lowest = f"-{basements}" if basements else "1"
            issues.append(
                ConfigIssue(name, f"{section}.{i}.floor", f"floor {floor} outside building {b} ({lowest}..{floors}, no 0)")
            )

    ids: dict[str, set[str]] = {}
    for section in ("checkpoints", "sensors"):
        items = data.get(section)
        if not isinstance(items, list):
            continue
        seen = ids.setdefault(section, set())
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            item_id = item.get("id")
            if isinstance(item_id, str):
                if item_id in seen:
                    issues.append(ConfigIssue(name, f"{section}.{i}.id", f"duplicate id {item_id!r}"))
                seen.add(item_id)
            check_place(section, i, item)

    crit = data.get("criticality")
    if isinstance(crit, dict):
        for ref in crit:
            key = f"criticality.{ref}"
            m = _ENTITY_REF.match(ref) if isinstance(ref, str) else None
            if not m or m.group(1) not in ENTITY_TARGETS:
                issues.append(
                    ConfigIssue(name, key, f"not an entity ref <target>:<id> with target in {'|'.join(ENTITY_TARGETS)}")
                )
            elif m.group(1) == "building" and buildings and m.group(2) not in buildings:
                issues.append(ConfigIssue(name, key, f"unknown building {m.group(2)!r}"))
            elif m.group(1) == "checkpoint" and "checkpoints" in ids and m.group(2) not in ids["checkpoints"]:
                issues.append(ConfigIssue(name, key, f"unknown checkpoint {m.group(2)!r}"))
    return issues
