"""The ledger tests' fixtures: a registry key and an import bound to the test's SQLite database."""

from __future__ import annotations

import pytest


@pytest.fixture
def registry_key(monkeypatch) -> str:
    from pipeline.persons.keys import KEYS_ENV, new_key

    key = new_key()
    monkeypatch.setenv(KEYS_ENV, key)
    return key


@pytest.fixture
def run_import(engine, config, registry_key):
    """import_ledger(data, filename, kind, **options) against the test's database."""
    from pipeline.ledgers.importer import import_ledger

    def run(data: bytes, filename: str, kind: str, **options):
        return import_ledger(data, filename, kind, cfg=config, engine=engine, actor="tester", **options)

    return run
