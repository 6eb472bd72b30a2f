"""The test suite's one top-level conftest: Hypothesis profiles and the order of disruptive tests.

Fixtures of one area live beside its tests (tests/pipeline/conftest.py, tests/integration/conftest.py);
`tests/` is a package, so helper modules are imported as `tests.<area>.<module>`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
             HealthCheck.large_base_example]

# CI runs every property test at its full budget (tests/pipeline/test_contract_properties.py: >= 10,000
# examples in all), derandomized so a failure reproduces from the log; a developer's run takes a few
# hundred examples in all and keeps Hypothesis' example database to replay what failed last time.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, suppress_health_check=_SUPPRESS,
                          print_blob=True)
settings.register_profile("dev", deadline=None, suppress_health_check=_SUPPRESS)
FULL_BUDGET = bool(os.environ.get("CI"))
settings.load_profile("ci" if FULL_BUDGET else "dev")


def examples(full: int) -> int:
    """A property test's example count: `full` in CI, a twenty-fifth of it (at least 10) elsewhere."""
    return full if FULL_BUDGET else max(10, full // 25)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `disruptive` stop or restart the shared broker or database: run them after
    every other test, so nothing else sees the outage (stable sort: their own order is kept)."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
