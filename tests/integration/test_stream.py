"""The stream on the real broker and PostgreSQL equals the replay oracle (equivalence, scale-out).

Each test has its own topics (prefix) and consumer group (app id) and a fresh database; the oracle is
`riskwatch replay FILE --db` into another fresh database, compared row by row (streamkit.py).
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.integration import streamkit as sk

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))


def gas_alarm(eid: str, at: datetime) -> bytes:
    """Two of these on one room within minutes raise an alert (default rules)."""
    return json.dumps({"event_id": eid, "kind": "monitoring", "type": "gas_alarm", "source": "sensor-gw",
                       "occurred_at": at.isoformat(timespec="seconds"), "severity": 4,
                       "location": {"id": "HD-2-0101", "building": "2"}}).encode()


def produce_lines(lines: list[bytes], path: Path, dep, bootstrap: str) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")
    sk.produce(path, dep.raw, 4, bootstrap)


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    """A simulated week with 5 % malformed lines (invalid, oversize, non-UTF-8, duplicates)."""
    return sk.simulate(tmp_path_factory.mktemp("week") / "week.jsonl", days=7, seed=7)


@pytest.fixture(scope="module")
def oracle(pg_url, week):
    url = sk.fresh_database(pg_url, "oracle")
    summary = sk.replay_into(week, url)
    snap = sk.snapshot(url, sk.parse_now(summary))
    yield summary, snap
    sk.drop_database(pg_url, url)


@pytest.fixture
def stream_db(pg_url):
    url = sk.fresh_database(pg_url, "stream")
    yield url
    sk.drop_database(pg_url, url)


@pytest.fixture
def deployment(kafka_bootstrap, stream_db, tmp_path):
    dep = sk.Deployment(kafka_bootstrap, stream_db, tmp_path, partitions=4)
    yield dep
    dep.cleanup()


def assert_matches(dep, summary, oracle_snap, sent: int):
    snap = sk.snapshot(dep.db_url, sk.parse_now(summary))
    assert sk.differences(snap, oracle_snap) == []
    counts = snap.counts()
    assert sent == summary["events"]
    assert counts["events"] + counts["rejections"] + snap.duplicates == sent
    assert (counts["events"], counts["rejections"], snap.duplicates) == (
        summary["accepted"], summary["rejected"], summary["duplicates"])


def test_a_simulated_week_gives_exactly_replays_rows(deployment, week, oracle, kafka_bootstrap):
    summary, oracle_snap = oracle
    sent = sk.produce(week, deployment.raw, 4, kafka_bootstrap)
    worker = deployment.start("--until-drained")
    assert worker.wait(240) == 0, worker.tail()
    assert_matches(deployment, summary, oracle_snap, sent)

    # structured logs: every line one JSON object; rejections and duplicates carry a correlation id
    lines = [json.loads(x) for x in worker.log.read_text().splitlines() if x.strip()]
    about_events = [x for x in lines if x["msg"] in ("rejected", "duplicate")]
    assert len(about_events) == summary["rejected"] + summary["duplicates"]
    assert all(x.get("correlation_id") for x in about_events)
    assert any(x["msg"] == "input drained: stopping" for x in lines)

    status = subprocess.run([*sk.RISKWATCH, "status", "--json", "--interval", "0"], cwd=sk.ROOT,
                            env=deployment.env(), capture_output=True, timeout=60)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["dlq_messages"] == report["rejections_stored"] == summary["rejected"]
    assert all(row["lag"] == 0 for row in report["lag"] if row["topic"] == deployment.raw)
    assert sum(p["next_offset"] for p in report["positions"]) == sent


def test_two_workers_split_the_partitions_and_still_match(deployment, week, oracle, kafka_bootstrap):
    summary, oracle_snap = oracle
    sent = sk.produce(week, deployment.raw, 4, kafka_bootstrap)
    first = deployment.start("--until-drained")
    second = deployment.start("--until-drained")
    assert first.wait(300) == 0, first.tail()
    assert second.wait(300) == 0, second.tail()
    assert_matches(deployment, summary, oracle_snap, sent)

    def raw_partitions(worker):
        owned = set()
        for x in worker.log.read_text().splitlines():
            doc = json.loads(x)
            if doc["msg"] == "partitions assigned":
                owned |= {p for p in doc["partitions"] if p.startswith(deployment.raw + "/")}
        return owned

    a, b = raw_partitions(first), raw_partitions(second)
    assert a and b, "both workers should have owned events.raw partitions at some point"
    assert a | b == {f"{deployment.raw}/{p}" for p in range(4)}


def test_live_clock_scores_on_arrival_and_rejects_the_future(deployment, kafka_bootstrap, tmp_path):
    """clock: wall: events stamped now are scored as they come; one an hour ahead is a rejection."""
    from pipeline.storage.db import make_engine
    from pipeline.storage.views import entity_scores_current

    now = datetime.now(CST)
    lines = [gas_alarm("live-1", now - timedelta(minutes=5)), gas_alarm("live-2", now - timedelta(minutes=1)),
             gas_alarm("live-3", now + timedelta(hours=1))]
    produce_lines(lines, tmp_path / "live.jsonl", deployment, kafka_bootstrap)
    worker = deployment.start("--until-drained", "--clock", "wall")
    assert worker.wait(120) == 0, worker.tail()
    engine = make_engine(deployment.db_url)
    try:
        with engine.connect() as conn:
            reasons = [r for (r,) in conn.exec_driver_sql("SELECT reason FROM rejections")]
            events = conn.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
            fired = conn.exec_driver_sql("SELECT count(*) FROM contributions WHERE entity = 'location:HD-2-0101'").scalar_one()
        assert reasons == ["future_timestamp"] and events == 2 and fired >= 2
        assert entity_scores_current(engine)["location:HD-2-0101"].score > 0
    finally:
        engine.dispose()


def test_an_alert_the_workflow_resolved_is_not_reused_by_the_next_firing(deployment, kafka_bootstrap, tmp_path):
    """The leader resolves the alert in the database; the worker hears of it, and the room's next gas
    alarms raise a NEW alert instead of attaching to the resolved one."""
    import sqlalchemy as sa

    from pipeline.storage.db import make_engine

    engine = make_engine(deployment.db_url)
    worker = deployment.start("--clock", "wall")

    def alerts():
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT alert_id, status FROM alerts WHERE entity = 'location:HD-2-0101' "
                                        "ORDER BY raised_at, alert_id")).all()
    try:
        now = datetime.now(CST)
        produce_lines([gas_alarm("r-1", now - timedelta(minutes=3)), gas_alarm("r-2", now - timedelta(minutes=2))],
                      tmp_path / "first.jsonl", deployment, kafka_bootstrap)
        sk.wait_for(lambda: len(alerts()) == 1 or not worker.alive(), timeout=90, what="the first alert")
        assert worker.alive(), worker.tail()
        (first, _), = alerts()
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alerts SET status = 'resolved', updated_at = now() WHERE alert_id = :a"),
                         {"a": first})
        sk.wait_for(lambda: "alert ended by the workflow" in worker.log.read_text(errors="replace"), timeout=30,
                    what="the worker to hear of the resolution")
        produce_lines([gas_alarm("r-3", now), gas_alarm("r-4", now + timedelta(seconds=1))],
                      tmp_path / "second.jsonl", deployment, kafka_bootstrap)
        sk.wait_for(lambda: len(alerts()) == 2 or not worker.alive(), timeout=90, what="a second alert")
        rows = alerts()
        assert rows[0] == (first, "resolved")
        assert rows[1][0] != first and rows[1][1] == "open"
    finally:
        worker.kill()
        engine.dispose()
