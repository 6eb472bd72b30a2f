"""Shared, module-cached simulation runs: generating once keeps the whole suite within a second or two."""

from __future__ import annotations

import pytest

from pipeline.area import load_area
from pipeline.contract import load_vocabulary
from pipeline.settings import DEFAULT_CONFIG_DIR
from pipeline.simulate import simulate


@pytest.fixture(scope="session")
def area():
    return load_area(DEFAULT_CONFIG_DIR / "area.yaml")


@pytest.fixture(scope="session")
def vocab():
    return load_vocabulary(DEFAULT_CONFIG_DIR / "vocabulary.yaml")


@pytest.fixture(scope="session")
def week(area):
    """One clean 7-day run: (simulation, records)."""
    sim = simulate(7, 11, area=area)
    return sim, list(sim.records())


@pytest.fixture(scope="session")
def week_noisy(area):
    """The same kind of run with 5 % malformed lines."""
    sim = simulate(7, 12, area=area, malformed_rate=0.05)
    return sim, list(sim.records())
