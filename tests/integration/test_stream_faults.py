"""The stream under faults: kill -9 of the worker at random points, a broker restart, and
PostgreSQL stopped for 30 s, each during a run of more than 50,000 events with malformed lines mixed in.
Every time the database ends up equal to the replay oracle: no event lost, none counted twice, no
alert raised twice, and messages in = accepted + rejected + duplicates.

This module stops the shared broker and database for a while, which disturbs any other test running
at the same moment: its tests are marked `disruptive`, which tests/conftest.py runs after every other
test, and it keeps all such faults here.
The random kill points come from RISKWATCH_FAULT_SEED when set (a failure prints the seed it used).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration import pgkit
from tests.integration import streamkit as sk
from tests.integration.test_stream import assert_matches

pytestmark = [pytest.mark.integration, pytest.mark.disruptive]

DAYS = 22   # 51,000+ messages


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    return sk.simulate(tmp_path_factory.mktemp("faults") / "events.jsonl", days=DAYS, seed=21)


@pytest.fixture(scope="module")
def oracle(pg_url, month):
    url = sk.fresh_database(pg_url, "oracle")
    summary = sk.replay_into(month, url)
    assert summary["events"] >= 50_000
    snap = sk.snapshot(url, sk.parse_now(summary))
    yield summary, snap
    sk.drop_database(pg_url, url)


@pytest.fixture
def deployment(kafka_bootstrap, pg_url, tmp_path):
    url = sk.fresh_database(pg_url, "faults")
    dep = sk.Deployment(kafka_bootstrap, url, tmp_path, partitions=4, label="faults")
    yield dep
    dep.cleanup()
    sk.drop_database(pg_url, url)


def stored_events(dep) -> int:
    return sk.row_count(dep.db_url, "events")


def test_kill_9_at_random_points_and_restart(deployment, month, oracle, kafka_bootstrap):
    summary, oracle_snap = oracle
    seed = int(os.environ.get("RISKWATCH_FAULT_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    sent = sk.produce(month, deployment.raw, 4, kafka_bootstrap)
    accepted = summary["accepted"]
    kills = []
    for share in sorted(rng.uniform(0.05, 0.9) for _ in range(4)):
        worker = deployment.start()
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.5, 4.0))      # during start-up or table recovery
            kills.append(f"after {time.monotonic():.0f}s of start-up")
        else:
            def reached(share=share, worker=worker) -> bool:
                return stored_events(deployment) >= share * accepted or not worker.alive()

            sk.wait_for(reached, timeout=180,
                        what=f"{share:.0%} of the events stored (seed {seed})")
            kills.append(f"at {stored_events(deployment)} events stored")
        assert worker.alive(), f"worker exited by itself (seed {seed}):\n{worker.tail()}"
        worker.kill()
    final = deployment.start("--until-drained")
    assert final.wait(300) == 0, f"seed {seed}, kills {kills}:\n{final.tail()}"
    assert len(kills) >= 4
    assert_matches(deployment, summary, oracle_snap, sent)


def drained_worker_at_30_percent(deployment, summary):
    """A `--until-drained` worker, once 30 % of the accepted events are stored (or it exited)."""
    worker = deployment.start("--until-drained")
    sk.wait_for(lambda: stored_events(deployment) >= 0.3 * summary["accepted"] or not worker.alive(), timeout=180,
                what="30% of the events stored")
    return worker


def test_broker_restart_mid_run(deployment, month, oracle, kafka_bootstrap):
    summary, oracle_snap = oracle
    sent = sk.produce(month, deployment.raw, 4, kafka_bootstrap)
    worker = drained_worker_at_30_percent(deployment, summary)
    assert worker.alive(), worker.tail()
    subprocess.run([str(sk.ROOT / "scripts/kafka-stop.sh")], check=True, capture_output=True, timeout=90)
    time.sleep(3)
    subprocess.run([str(sk.ROOT / "scripts/kafka-start.sh")], check=True, capture_output=True, timeout=180)
    assert worker.wait(300) == 0, worker.tail()
    assert_matches(deployment, summary, oracle_snap, sent)


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None and not os.environ.get("CI"),
                    reason="needs Debian's pg_ctlcluster (scripts/pg-start.sh)")
def test_postgres_away_for_30_seconds_mid_run(deployment, month, oracle, kafka_bootstrap):
    summary, oracle_snap = oracle
    sent = sk.produce(month, deployment.raw, 4, kafka_bootstrap)
    worker = drained_worker_at_30_percent(deployment, summary)
    cluster = pgkit.local_cluster(deployment.db_url)
    assert cluster is not None, "no local Debian PostgreSQL cluster serves the test database"
    with pgkit.server_lock(exclusive=True):     # no other test run on this machine sees the outage
        pgkit.pg_ctl(cluster, "stop", "-m", "fast")
        try:
            time.sleep(30)
            assert worker.alive(), worker.tail()
        finally:
            pgkit.pg_ctl(cluster, "start")
    assert worker.wait(300) == 0, worker.tail()
    log = worker.log.read_text()
    assert "database unavailable; batch kept, retrying" in log
    assert_matches(deployment, summary, oracle_snap, sent)
