"""Helpers for the stream's integration tests: simulated input, the replay oracle's database, worker
processes, and the comparison of two databases' rows.

Not a conftest (plain functions and classes); test modules import it with
    from tests.integration import streamkit as sk
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from tests.integration import pgkit

ROOT = Path(__file__).resolve().parents[2]
RISKWATCH = [sys.executable, "-m", "pipeline.cli"]


# -- databases --------------------------------------------------------------------------------------


def fresh_database(pg_url: str, label: str) -> str:
    """A scratch database rw_<label>_<uuid> next to `pg_url`, migrated to the head; returns its URL."""
    return pgkit.create_database(pg_url, label)


def drop_database(pg_url: str, url: str) -> None:
    pgkit.drop_database(pg_url, url)


def replay_into(events_file: Path, url: str) -> dict:
    """The oracle: `riskwatch replay FILE --db URL --json`; returns its summary line."""
    import orjson

    out = subprocess.run([*RISKWATCH, "replay", str(events_file), "--db", url, "--json"], cwd=ROOT,
                         capture_output=True, check=True, timeout=300)
    return orjson.loads(out.stdout.splitlines()[-1])


# -- comparing ----------------------------------------------------------------------------------------


def _rows(conn, sql: str) -> list[tuple]:
    return [tuple(_plain(v) for v in row) for row in conn.execute(sa.text(sql))]


def _plain(value):
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return "b64:" + base64.b64encode(value).decode()
    if isinstance(value, (dict, list)):
        import orjson

        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if isinstance(value, float):
        return round(value, 9)
    return value


QUERIES = {
    "events": "SELECT event_id, kind, type, occurred_at, source, building, location_id, doc FROM events",
    # positions differ (file line vs topic/partition/offset): compare what was rejected and why
    "rejections": "SELECT reason, detail, event_id, raw, raw_bytes FROM rejections",
    "contributions": "SELECT id, entity, rule, category, points, fired_at, events, half_life_s, building FROM contributions",
    "entities": "SELECT ref, type, id, building, criticality FROM entities",
    "alerts": "SELECT alert_id, entity, level, assignee, rules, score, raised_at, status, updated_at FROM alerts",
    "alert_history": "SELECT alert_id, action, level, actor, at, detail FROM alert_history",
    "levels": "SELECT name, threshold FROM levels",
}


@dataclass
class Snapshot:
    tables: dict[str, Counter]
    scores: dict
    duplicates: int

    def counts(self) -> dict[str, int]:
        return {name: sum(rows.values()) for name, rows in self.tables.items()}


def snapshot(url: str, now: float) -> Snapshot:
    from pipeline.storage.views import entity_scores_at

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = {name: Counter(_rows(conn, sql)) for name, sql in QUERIES.items()}
            present = sa.inspect(conn).get_table_names()
            dups = conn.execute(sa.text("SELECT count(*) FROM duplicates")).scalar_one() if "duplicates" in present else 0
        scores = entity_scores_at(engine, now)
    finally:
        engine.dispose()
    return Snapshot(tables, scores, dups)


def differences(stream: Snapshot, oracle: Snapshot, limit: int = 5) -> list[str]:
    """Human-readable differences, empty when the databases agree."""
    out = []
    for name in QUERIES:
        a, b = stream.tables[name], oracle.tables[name]
        if a != b:
            extra, missing = a - b, b - a
            out.append(f"{name}: {sum(extra.values())} rows only in the stream, {sum(missing.values())} only in replay; "
                       f"e.g. stream {list(extra)[:limit]} replay {list(missing)[:limit]}")
    if stream.scores != oracle.scores:
        keys = set(stream.scores) ^ set(oracle.scores)
        diff = [k for k in set(stream.scores) & set(oracle.scores) if stream.scores[k] != oracle.scores[k]]
        out.append(f"scores differ: entities only on one side {sorted(keys)[:limit]}, different {diff[:limit]}")
    return out


def parse_now(summary: dict) -> float:
    from pipeline.timeutil import parse_time

    return parse_time(summary["now"]).timestamp()


# -- producing and workers ------------------------------------------------------------------------------


def simulate(path: Path, days: int, seed: int, malformed_rate: float = 0.05) -> Path:
    subprocess.run([*RISKWATCH, "simulate", "--days", str(days), "--seed", str(seed), "--to", str(path),
                    "--malformed-rate", str(malformed_rate)], cwd=ROOT, check=True, capture_output=True, timeout=300)
    return path


def produce(path: Path, topic: str, partitions: int, bootstrap: str) -> int:
    out = subprocess.run([*RISKWATCH, "produce", str(path), "--topic", topic, "--partitions", str(partitions),
                          "--bootstrap", bootstrap], cwd=ROOT, check=True, capture_output=True, text=True, timeout=300)
    return int(out.stdout.split()[1])


class Deployment:
    """One stream deployment of a test: its own topic prefix and app id (consumer group)."""

    def __init__(self, bootstrap: str, db_url: str, tmp: Path, partitions: int = 4, label: str = "t"):
        tag = uuid.uuid4().hex[:10]
        self.prefix = f"test.{label}.{tag}."
        self.app_id = f"rw-test-{label}-{tag}"
        self.bootstrap = bootstrap
        self.db_url = db_url
        self.tmp = tmp
        self.partitions = partitions
        self.raw = f"{self.prefix}events.raw"
        self.workers: list[Worker] = []

    def env(self, **extra) -> dict:
        env = dict(os.environ)
        env.update({
            "RISKWATCH_KAFKA_BOOTSTRAP": self.bootstrap, "RISKWATCH_DB_URL": self.db_url,
            "RISKWATCH_APP_ID": self.app_id, "RISKWATCH_TOPIC_PREFIX": self.prefix,
            "RISKWATCH_TOPIC_PARTITIONS": str(self.partitions), "RISKWATCH_CLOCK": "event",
        })
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start(self, *args: str, **env) -> Worker:
        n = len(self.workers)
        log = self.tmp / f"worker-{n}.log"
        with open(log, "wb") as err:        # the child keeps its own copy of the descriptor
            proc = subprocess.Popen([*RISKWATCH, "worker", *args], cwd=ROOT, env=self.env(**env),
                                    stdout=subprocess.DEVNULL, stderr=err)
        worker = Worker(proc, log)
        self.workers.append(worker)
        return worker

    def cleanup(self) -> None:
        for w in self.workers:
            w.kill()
        from pipeline.errors import DeploymentBusy
        from streams.topics import TopicNames, delete_deployment, delete_topics

        names = TopicNames.make(self.prefix, self.app_id)
        try:
            delete_deployment(self.bootstrap, names, timeout=10)     # topics and consumer groups
        except DeploymentBusy:
            delete_topics(self.bootstrap, names)    # a killed worker's membership lasts its session (8 s)
        except Exception:  # noqa: BLE001 - best effort
            pass


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker did not finish within {timeout}s; log tail:\n{self.tail()}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def wait_for(predicate, timeout: float, every: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def row_count(url: str, table: str) -> int:
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3} if url.startswith("postgresql") else {})
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    except sa.exc.OperationalError:
        return -1
    finally:
        engine.dispose()
