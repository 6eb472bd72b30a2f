"""`riskwatch import ledger --to-kafka`: the events go to events.raw (the deployment's topic prefix), the
registry stays in the database, nothing is stored as events there."""

from __future__ import annotations

import uuid

import orjson
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.pipeline.ledgers.ledgerkit import csv_bytes

pytestmark = pytest.mark.integration


def test_to_kafka_produces_the_events(kafka_bootstrap, tmp_path, monkeypatch):
    from pipeline.persons.keys import KEYS_ENV, new_key
    from pipeline.storage.db import open_database
    from streams.kafka_io import delete_topic, iter_messages

    prefix = f"test.{uuid.uuid4().hex[:10]}."
    url = f"sqlite:///{tmp_path / 'rw.db'}"
    open_database(url).dispose()
    for name, value in (("TOPIC_PREFIX", prefix), ("KAFKA_BOOTSTRAP", kafka_bootstrap), ("DB_URL", url)):
        monkeypatch.setenv(f"RISKWATCH_{name}", value)
    monkeypatch.setenv(KEYS_ENV, new_key())
    path = tmp_path / "检查.csv"
    path.write_bytes(csv_bytes([["日期", "检查对象"], ["2024-07-01", "某某超市"], ["2024-07-02", "某某超市"]]))
    try:
        result = CliRunner().invoke(app, ["import", "ledger", str(path), "--kind", "inspections", "--to-kafka",
                                          "--json"])
        assert result.exit_code == 0, result.output
        assert orjson.loads(result.stdout)["new"] == 2
        docs = [orjson.loads(m.value) for m in iter_messages(kafka_bootstrap, f"{prefix}events.raw")]
        assert sorted(d["occurred_at"] for d in docs) == ["2024-07-01T09:00:00+08:00", "2024-07-02T09:00:00+08:00"]
        assert len({d["subjects"][0]["id"] for d in docs}) == 1 and all(d["source"] == "ledger" for d in docs)
        assert "某某超市" not in repr(docs)
    finally:
        delete_topic(kafka_bootstrap, f"{prefix}events.raw")
