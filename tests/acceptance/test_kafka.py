"""docs/contract.md §1 on Kafka: a file produced to a topic is validated there with the same reason codes and
counts as `riskwatch replay` gives for the file."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.acceptance.kit import cli, event, write_events
from tests.acceptance.test_replay_contract import REASONS, T0

pytestmark = pytest.mark.integration


def test_the_topic_is_validated_as_replay_validates_the_file(tmp_path: Path, kafka_bootstrap: str, unique_topic: str) -> None:
    lines = [line for line, _, reason in REASONS if reason != "future_timestamp"]
    ok = [event(f"ok-{i}", "patrol", "checkpoint_visit", T0) for i in range(3)]
    path = write_events(tmp_path / "e.jsonl", [*ok, *lines, ok[0]])
    replayed = cli("replay", path, "--json").json_lines()
    want = Counter(r["reason"] for r in replayed if r["type"] == "reject")
    summary = replayed[-1]
    assert cli("produce", path, "--topic", unique_topic, "--bootstrap", kafka_bootstrap).code == 0
    run = cli("consume-count", "--topic", unique_topic, "--bootstrap", kafka_bootstrap, "--timeout", "30")
    assert run.code == 0, run.stderr
    head = re.search(r"(\d+) messages, (\d+) valid \((\d+) duplicate event_ids\), (\d+) rejected: (.*)", run.stdout)
    assert head, run.stdout
    messages, valid, duplicates, rejected = map(int, head.groups()[:4])
    got = Counter({reason: int(n) for reason, n in re.findall(r"([a-z_]+(?::[A-Za-z_.]+)?) (\d+)", head.group(5))})
    assert (messages, valid, duplicates, rejected) == (summary["events"], summary["accepted"] + summary["duplicates"],
                                                      summary["duplicates"], summary["rejected"])
    assert got == want
