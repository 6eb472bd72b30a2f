"""Fixtures for the alert delivery tests: local peers (the SQLite database and the config come from
tests/pipeline/conftest.py)."""

from __future__ import annotations

import pytest

from tests.pipeline.notify.notify_peers import MailSink, Receiver


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
