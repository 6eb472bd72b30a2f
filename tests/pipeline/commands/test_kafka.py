"""Without a broker every entry point gives the same single line (no Kafka needed for these tests)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from streams import kafka_io


@pytest.fixture
def dead_bootstrap() -> str:
    # A port that was free a moment ago: nothing answers there.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"127.0.0.1:{port}"


def test_every_helper_raises_kafka_unavailable(dead_bootstrap):
    expected = f"Kafka not reachable at {dead_bootstrap}: start it with scripts/kafka-start.sh"
    calls = [
        lambda: kafka_io.ping(dead_bootstrap, timeout=0.5),
        lambda: kafka_io.create_topic(dead_bootstrap, "t", 1, connect_timeout=0.5),
        lambda: kafka_io.produce_lines(dead_bootstrap, "t", [b"x"], connect_timeout=0.5),
        lambda: list(kafka_io.iter_messages(dead_bootstrap, "t", connect_timeout=0.5)),
    ]
    for call in calls:
        with pytest.raises(kafka_io.KafkaUnavailable) as info:
            call()
        assert str(info.value) == expected


def test_cli_says_one_line_and_exits_2(dead_bootstrap, monkeypatch, tmp_path):
    monkeypatch.setattr(kafka_io, "CONNECT_TIMEOUT_S", 0.5)
    events = tmp_path / "e.jsonl"
    events.write_text("{}\n")
    for args in (["consume-count", "--bootstrap", dead_bootstrap], ["produce", str(events), "--bootstrap", dead_bootstrap]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.output.splitlines() == [
            f"错误（服务不可用）：Kafka not reachable at {dead_bootstrap}: start it with scripts/kafka-start.sh"
        ]
