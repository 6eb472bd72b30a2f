"""Fixtures shared by the core's unit tests (tests/pipeline/): a migrated SQLite database and the
project's configuration."""

from __future__ import annotations

import pytest


@pytest.fixture
def engine(tmp_path):
    """A migrated SQLite database of the test's own."""
    from pipeline.storage.db import open_database

    eng = open_database(f"sqlite:///{tmp_path / 'rw.db'}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def config():
    """The project's configuration (config/): rules, area, assignments, vocabulary."""
    from pipeline.configset import load_config

    return load_config()
