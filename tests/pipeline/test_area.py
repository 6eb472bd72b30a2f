from pathlib import Path

import pytest

from pipeline.area import DEFAULT_AREA_FILE, load_area
from pipeline.config_errors import ConfigError


@pytest.fixture(scope="module")
def area():
    return load_area(DEFAULT_AREA_FILE)


def test_project_area_loads(area):
    assert area.name == "虹都中心"
    assert area.timezone == "Asia/Shanghai"
    assert set(area.buildings) == {"1", "2"}
    assert area.buildings["1"].floors == 28 and area.buildings["2"].floors == 24
    assert 7 <= len(area.checkpoints_of("1")) <= 10 and 7 <= len(area.checkpoints_of("2")) <= 10
    assert {s.type for s in area.sensors} == {"smoke", "gas", "ebike", "fire_exit", "door", "water"}
    for place in list(area.checkpoints) + list(area.sensors):
        assert area.buildings[place.building].has_floor(place.floor)


def test_multiplier(area):
    assert area.multiplier("building:1") == 1.5
    assert area.multiplier("building:2", "2") == 1.5
    # location and checkpoint entities inherit their building's value
    assert area.multiplier("location:HD-1-1203", "1") == 1.5
    assert area.multiplier("checkpoint:CP-2-ROOF", "2") == 1.5
    assert area.multiplier("checkpoint:CP-2-ROOF") == 1.5  # known checkpoint: building looked up
    assert area.multiplier("location:HD-2-24-roof") == 1.5  # a checkpoint's location
    # persons and businesses never inherit; unknown buildings default to 1.0
    assert area.multiplier("person:P-0007", "1") == 1.0
    assert area.multiplier("business:B-0003", "1") == 1.0
    assert area.multiplier("location:HD-9-0101", "9") == 1.0
    assert area.multiplier("location:somewhere") == 1.0


def test_own_value_wins(tmp_path):
    text = DEFAULT_AREA_FILE.read_text(encoding="utf-8").replace(
        '  "building:2": 1.5\n', '  "building:2": 1.5\n  "location:HD-1-1203": 2.0\n  "person:P-0007": 1.2\n'
    )
    path = tmp_path / "area.yaml"
    path.write_text(text, encoding="utf-8")
    area = load_area(path)
    assert area.multiplier("location:HD-1-1203", "1") == 2.0
    assert area.multiplier("location:HD-1-1204", "1") == 1.5
    assert area.multiplier("person:P-0007") == 1.2


BROKEN = """\
version: 2
name: 虹都中心
street: 西于庄街道
community: 亿城堂庭社区
timezone: Asia/Shanghia
buildings:
  "1": {name: 虹都中心1号楼, floors: 28, units_per_floor: 12, type: 商住公寓, basement_floors: 1}
  "2": {name: 虹都中心2号楼, floors: 24, units_per_floor: 10, type: 商住公寓}
  "2": {name: 重复, floors: 24, units_per_floor: 10, type: 商住公寓}
checkpoints:
  - {id: CP-1-LOBBY, building: "3", floor: 1, name: 大堂}
  - {id: CP-1-LOBBY, building: "1", floor: 40, name: 走廊}
  - {id: CP-2-B1, building: "2", floor: -1, name: 车库, colour: red}
sensors:
  - {id: SMK-1-0101, type: laser, building: "1", floor: 1, location: HD-1-01-corridor}
  - {id: SMK-1-0201, type: smoke, building: "1", floor: 0, location: HD-1-02-corridor}
criticality:
  "building:1": -1
  "street:X": 2
  "building:7": 2
"""


def test_broken_area_lists_every_error(tmp_path):
    path = tmp_path / "area.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_area(path)
    issues = info.value.issues
    assert all(i.file == str(path) for i in issues)
    keys = {i.key for i in issues}
    assert keys == {
        "version",
        "timezone",
        "buildings.2",  # duplicate YAML key
        "checkpoints.0.building",  # unknown building
        "checkpoints.1.id",  # duplicate id
        "checkpoints.1.floor",  # above the roof
        "checkpoints.2.colour",  # unknown key
        "checkpoints.2.floor",  # building 2 has no basement declared
        "sensors.0.type",
        "sensors.1.floor",  # floor 0 does not exist
        "criticality.building:1",  # not > 0
        "criticality.street:X",  # unknown target
        "criticality.building:7",  # unknown building
    }
    # every issue renders as "file: key: message"
    assert str(path) in str(info.value) and "criticality.street:X" in str(info.value)


def test_unreadable_files_are_refused(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_area(tmp_path / "missing.yaml")
    assert info.value.issues[0].key == "(file)"
    bad = tmp_path / "bad.yaml"
    bad.write_text("buildings: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_area(bad)
    assert info.value.issues[0].message.startswith("not valid YAML")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_area(scalar)


def test_unquoted_building_ids_are_accepted(tmp_path):
    text = DEFAULT_AREA_FILE.read_text(encoding="utf-8").replace('  "1": {name:', "  1: {name:")
    text = text.replace('building: "1"', "building: 1")
    path = Path(tmp_path) / "area.yaml"
    path.write_text(text, encoding="utf-8")
    area = load_area(path)
    assert set(area.buildings) == {"1", "2"}
    assert area.checkpoints_of("1")[0].building == "1"
