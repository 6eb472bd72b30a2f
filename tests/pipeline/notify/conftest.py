"""Fixtures for the alert delivery tests: a migrated SQLite database, the project's config, local peers."""

from __future__ import annotations

import pytest

from notify_peers import MailSink, Receiver


@pytest.fixture
def engine(tmp_path):
    from pipeline.storage.db import open_database

    eng = open_database(f"sqlite:///{tmp_path / 'rw.db'}")
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def config():
    from pipeline.configset import load_config

    return load_config()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mail_sink():
    sink = MailSink()
    yield sink
    sink.close()
