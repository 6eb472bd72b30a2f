"""Fixtures for the privacy tests: registry keys, tokens of each role (on tests/pipeline/conftest.py's database)."""

from __future__ import annotations

import pytest

from pipeline.persons.keys import KEYS_ENV, new_key


@pytest.fixture
def registry_key(monkeypatch) -> str:
    key = new_key()
    monkeypatch.setenv(KEYS_ENV, key)
    return key


@pytest.fixture
def tokens(engine) -> dict[str, str]:
    from pipeline.auth import create_token

    return {
        "viewer": create_token(engine, "view-1", "viewer"),
        "leader": create_token(engine, "leader-L01", "leader", leader_id="L01"),
        "analyst": create_token(engine, "analyst-1", "analyst"),
        "admin": create_token(engine, "admin-1", "admin"),
    }

