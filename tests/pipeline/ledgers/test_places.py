from __future__ import annotations

import pytest

from pipeline.ledgers.places import Place, Places
from pipeline.ledgers.values import CellError


@pytest.fixture(scope="module")
def places(config):
    return Places(config.area)


@pytest.mark.parametrize("cell", ["1", 1, 1.0, "1号楼", "１号楼", " 1 号楼", "虹都中心1号楼", "1栋", "1幢"])
def test_building_by_key_number_or_name(places, cell):
    assert places.building(cell) == "1"


@pytest.mark.parametrize("cell", ["3号楼", "9", "虹都中心", "一号楼"])
def test_an_unknown_building_is_refused(places, cell):
    with pytest.raises(CellError) as err:
        places.building(cell)
    assert "不在本辖区" in err.value.reason and "1号楼、2号楼" in err.value.reason


def test_places_by_id_or_name_else_free_text(places):
    assert places.place("1号楼大堂") == Place("HD-1-01-lobby", "1", None)
    assert places.place("CP-2-PUMP") == Place("HD-2-B1-pump", "2", None)
    assert places.place("HD-2-1203") == Place("HD-2-1203", "2", None)
    assert places.place("小区南门外  便利店") == Place(None, None, "小区南门外 便利店")
