"""`riskwatch serve` and HTTP ingest on the real services: events posted over HTTP give exactly
`riskwatch replay`'s rows (serve on SQLite and on PostgreSQL, and the Kafka-producing endpoint with
`riskwatch worker`), serve survives kill -9 at random points, and the refusals (401/413/415/503).

Exact comparison needs the engine's event clock (`serve --clock event`, `worker --clock event`): with
the wall clock the results depend on when events arrive. Rejections are compared as streamkit compares
the stream's: what was rejected and why (reason, detail, event_id, bounded raw), not where: replay's
position is (file name, 0, line), HTTP ingest's (`http:<token name>`, 0, request number + item).
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa

from pipeline.storage.db import open_database
from tests.integration import pgkit
from tests.integration import streamkit as sk
from tests.pipeline.serve.servekit import backlog, requests_in_order, tokens_for

KILLS = 4
COMPARED = ("events", "rejections", "contributions", "entities", "alerts", "alert_history", "levels")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_serve_left_behind():
    """Whatever a test does or fails at, no serve process of it outlives it."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


class Serve:
    """A `riskwatch serve` process of a test, restartable on its port."""

    def __init__(self, db_url: str, tmp: Path, *args: str, env: dict | None = None):
        self.db_url, self.tmp, self.args = db_url, tmp, args
        self.port = free_port()
        self.env = {**os.environ, "RISKWATCH_DB_URL": db_url, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.full = False       # with the pages and the notifier

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.tmp / f"serve-{self.starts}.log", "wb") as log:
            without = () if self.full else ("--no-pages", "--no-notify")
            self.proc = subprocess.Popen([*sk.RISKWATCH, "serve", "--port", str(self.port), *without,
                                          "--db", self.db_url, *self.args], cwd=sk.ROOT, env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        _started.append(self.proc)
        self.starts += 1
        sk.wait_for(self.healthy, 60, 0.2, f"serve to answer: {self.tail()}")

    def healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.tail()}")
        try:
            return client().get(f"{self.url}/v1/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, n: int = 20) -> str:
        logs = sorted(self.tmp.glob("serve-*.log"))
        return "\n".join(logs[-1].read_text(errors="replace").splitlines()[-n:]) if logs else ""


_client = threading.local()
_clients: list[httpx.Client] = []


def client() -> httpx.Client:
    """One client per thread (a new httpx client per request costs tens of milliseconds)."""
    if not hasattr(_client, "value"):
        _client.value = httpx.Client(timeout=30)
        _clients.append(_client.value)
    return _client.value


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _clients:
        _clients.pop().close()
    _client.__dict__.clear()


def post(url: str, token: str, body: bytes, patience: float = 120.0) -> dict:
    """POST until answered 200; a refused connection or a 503 is retried with the whole body (safe:
    repeats are duplicates, counted downstream)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            r = client().post(f"{url}/v1/events", content=body,
                              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
            if r.status_code == 200:
                return r.json()
            assert r.status_code == 503, (r.status_code, r.text)
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("serve did not accept a request in time")
        time.sleep(0.2)


def simulated(tmp: Path, days: int, seed: int) -> tuple[Path, list[bytes]]:
    path = sk.simulate(tmp / "events.jsonl", days=days, seed=seed)
    return path, path.read_bytes().splitlines()


def compare(url: str, oracle_url: str, now: float) -> list[str]:
    """streamkit's comparison of the tables, and of the scores at `now`."""
    got, want = sk.snapshot(url, now), sk.snapshot(oracle_url, now)
    out = [f"{name}: {sum((got.tables[name] - want.tables[name]).values())} rows only in serve, "
           f"{sum((want.tables[name] - got.tables[name]).values())} only in replay; e.g. "
           f"{list(got.tables[name] - want.tables[name])[:3]} / {list(want.tables[name] - got.tables[name])[:3]}"
           for name in COMPARED if got.tables[name] != want.tables[name]]
    if got.scores != want.scores:
        out.append("scores differ")
    return out


def make_tokens(db_url: str, lines: list[bytes]) -> dict:
    engine = open_database(db_url)
    try:
        return tokens_for(engine, lines)
    finally:
        engine.dispose()


def wait_processed(db_url: str, timeout: float = 180.0) -> None:
    engine = sa.create_engine(db_url)
    try:
        sk.wait_for(lambda: backlog(engine) == 0, timeout, 0.5, "serve's engine loop to catch up")
    finally:
        engine.dispose()


def sqlite_url(tmp: Path, name: str) -> str:
    url = f"sqlite:///{tmp / name}"
    open_database(url).dispose()    # created and migrated
    return url


@pytest.fixture
def pg_pair(pg_url):
    with pgkit.scratch_database(pg_url, "serve") as url, pgkit.scratch_database(pg_url, "serve_oracle") as oracle:
        yield url, oracle


def run_equal_to_replay(db_url: str, oracle_url: str, tmp: Path, days: int, seed: int) -> None:
    path, lines = simulated(tmp, days, seed)
    summary = sk.replay_into(path, oracle_url)
    tokens = make_tokens(db_url, lines)
    serve = Serve(db_url, tmp, "--clock", "event")
    serve.start()
    try:
        accepted = rejected = 0
        for token, body in requests_in_order(lines, tokens):
            answer = post(serve.url, token, body)
            accepted += answer["accepted"]
            rejected += answer["rejected"]
        wait_processed(db_url)
    finally:
        serve.stop()
    assert accepted == summary["accepted"] + summary["duplicates"]
    assert rejected == summary["rejected"]
    assert sk.row_count(db_url, "rejections") == summary["rejected"] > 0    # every rejection kept, as replay's
    assert compare(db_url, oracle_url, sk.parse_now(summary)) == []


def test_serve_on_sqlite_gives_replays_rows(tmp_path):
    run_equal_to_replay(sqlite_url(tmp_path, "serve.db"), sqlite_url(tmp_path, "oracle.db"), tmp_path, 2, 11)


def test_serve_on_postgresql_gives_replays_rows(pg_pair, tmp_path):
    run_equal_to_replay(*pg_pair, tmp_path, 2, 12)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_serve_survives_kill_9_at_random_points(backend, request, tmp_path):
    if backend == "sqlite":
        db_url, oracle_url = sqlite_url(tmp_path, "serve.db"), sqlite_url(tmp_path, "oracle.db")
    else:
        db_url, oracle_url = request.getfixturevalue("pg_pair")
    path, lines = simulated(tmp_path, 2, 13)
    summary = sk.replay_into(path, oracle_url)
    tokens = make_tokens(db_url, lines)
    serve = Serve(db_url, tmp_path, "--clock", "event")
    serve.start()
    done = threading.Event()
    failure: list[BaseException] = []

    def poster() -> None:
        try:
            for token, body in requests_in_order(lines, tokens, batch=200):
                post(serve.url, token, body)
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=poster, daemon=True)
    thread.start()
    rng = random.Random(7)
    kills = 0
    try:
        while kills < KILLS and not done.wait(rng.uniform(1.0, 4.0)):
            serve.kill()
            kills += 1
            serve.start()
        thread.join()
        assert not failure, failure
        for _ in range(KILLS - kills):      # the posting was quick: kill the engine loop while it catches up
            time.sleep(rng.uniform(0.0, 0.5))
            serve.kill()
            serve.start()
        wait_processed(db_url)
    finally:
        serve.stop()
    assert serve.starts == KILLS + 1
    assert compare(db_url, oracle_url, sk.parse_now(summary)) == []


def test_refusals_over_http(tmp_path):
    db_url = sqlite_url(tmp_path, "serve.db")
    engine = open_database(db_url)
    from pipeline.ingest import sources

    token = sources.create(engine, "sensors", "sensor-gw", created_by="test")
    engine.dispose()
    serve = Serve(db_url, tmp_path, env={"RISKWATCH_INGEST_BODY_LIMIT": str(1024 * 1024)})
    serve.start()
    try:
        event = orjson.dumps({"event_id": "s-1", "kind": "monitoring", "type": "smoke_alarm", "source": "sensor-gw",
                              "occurred_at": "2024-11-05T09:00:00+08:00", "location": {"id": "HD-1-0101"}})
        ndjson = {"Content-Type": "application/x-ndjson"}
        assert client().post(f"{serve.url}/v1/events", content=event, headers=ndjson).status_code == 401
        bad = client().post(f"{serve.url}/v1/events", content=event, headers={**ndjson, "Authorization": "Bearer rws_x"})
        assert bad.status_code == 401
        wrong_type = client().post(f"{serve.url}/v1/events", content=event,
                                headers={"Content-Type": "text/csv", "Authorization": f"Bearer {token}"})
        assert wrong_type.status_code == 415
        assert over_limit_status(serve.port) == 413
        ok = client().post(f"{serve.url}/v1/events", content=event, headers={**ndjson, "Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["accepted"] == 1
    finally:
        serve.stop()


def over_limit_status(port: int) -> int:
    """Announce a 100 MB body, send none of it, and read the answer: 413 without the body being read
    (and before authentication: no token is sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  b"Content-Length: 100000000\r\n\r\n")
        answer = s.recv(4096)
    return int(answer.split(b" ", 2)[1])


def set_connections(pg_url: str, db_url: str, allowed: bool) -> None:
    """Open or close a scratch database to new connections, ending the ones it has (its owner may)."""
    name = sa.engine.make_url(db_url).database
    admin = pgkit.admin_engine(pg_url)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    finally:
        admin.dispose()


def test_503_when_the_database_cannot_take_events(pg_url, tmp_path):
    """The database refuses connections: health says 503 and a post gets 503 + Retry-After, nothing
    is stored; resending the same request once the database is back is accepted. (The scratch
    database is closed to connections; the shared server keeps running.)"""
    with pgkit.scratch_database(pg_url, "serve503") as db_url:
        engine = open_database(db_url)
        from pipeline.ingest import sources

        token = sources.create(engine, "sensors", "sensor-gw", created_by="test")
        engine.dispose()
        serve = Serve(db_url, tmp_path)
        serve.start()
        body = orjson.dumps({"event_id": "s-1", "kind": "monitoring", "type": "smoke_alarm", "source": "sensor-gw",
                             "occurred_at": "2024-11-05T09:00:00+08:00", "location": {"id": "HD-1-0101"}}) + b"\n{bad"
        headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"}
        try:
            set_connections(pg_url, db_url, False)
            try:
                r = client().post(f"{serve.url}/v1/events", content=body, headers=headers, timeout=60)
                assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
                assert client().get(f"{serve.url}/v1/health", timeout=60).status_code == 503
            finally:
                set_connections(pg_url, db_url, True)
            answer = post(serve.url, token, body)
            assert (answer["accepted"], answer["rejected"]) == (1, 1)
        finally:
            serve.stop()
            set_connections(pg_url, db_url, True)
        assert sk.row_count(db_url, "events") == 1
        assert sk.row_count(db_url, "rejections") == 1


def test_kafka_endpoint_and_worker_give_replays_rows(kafka_bootstrap, pg_pair, tmp_path):
    from pipeline.timeutil import parse_time
    from streams.topics import TopicNames, ensure_topics

    db_url, oracle_url = pg_pair
    path, lines = simulated(tmp_path, 1, 14)
    # The worker's event clock orders events of equal occurred_at by partition, not by file line:
    # keep one event per instant so that keying by event_id (as live producers do) stays exact.
    seen, kept = set(), []
    for line in lines:
        try:
            at = parse_time(orjson.loads(line)["occurred_at"]).timestamp()
        except Exception:  # noqa: BLE001 - malformed lines are kept: they are rejected either way
            kept.append(line)
            continue
        if at not in seen:
            seen.add(at)
            kept.append(line)
    path.write_bytes(b"\n".join(kept) + b"\n")
    summary = sk.replay_into(path, oracle_url)
    deployment = sk.Deployment(kafka_bootstrap, db_url, tmp_path, partitions=4, label="ingest")
    ensure_topics(kafka_bootstrap, TopicNames.make(deployment.prefix, deployment.app_id), 4, 1)
    tokens = make_tokens(db_url, kept)
    serve = Serve(db_url, tmp_path, "--kafka", env={k: v for k, v in deployment.env().items()
                                                      if k.startswith("RISKWATCH_")})
    serve.start()
    try:
        for token, body in requests_in_order(kept, tokens):
            post(serve.url, token, body)
        worker = deployment.start("--until-drained")
        assert worker.wait(300) == 0, worker.tail()
    finally:
        serve.stop()
        deployment.cleanup()
    assert compare(db_url, oracle_url, sk.parse_now(summary)) == []


def test_serve_runs_the_notifier_and_the_pages(tmp_path):
    """Wall clock, pages and notifier on: an alert raised from a posted event reaches the assigned
    leader's webhook, with a link to its page, and the pages answer."""
    import http.server

    from pipeline.configset import load_config
    from pipeline.timeutil import format_utc

    received: list[dict] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server interface
            received.append(orjson.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    config = tmp_path / "config"
    config.mkdir()
    leaders = "".join(f"  {lid}:\n    - {{type: webhook, url: 'http://127.0.0.1:{hook.server_port}/hook'}}\n"
                      for lid in load_config().assignments.leaders)
    (config / "channels.yaml").write_text(f"version: 1\ngroup_wait: 1s\ntimeout: 5s\nleaders:\n{leaders}",
                                          encoding="utf-8")
    db_url = sqlite_url(tmp_path, "serve.db")
    engine = open_database(db_url)
    from pipeline.ingest import sources

    token = sources.create(engine, "mediation", "mediation", created_by="test")
    engine.dispose()
    serve = Serve(db_url, tmp_path, "--config", str(config), env={"RISKWATCH_LINK_SECRET": secrets.token_hex(32)})
    serve.full = True
    try:
        serve.start()
        event = orjson.dumps({"event_id": "d-live-1", "kind": "dispute", "type": "escalated", "source": "mediation",
                              "occurred_at": format_utc(time.time() - 60), "tags": ["threat_of_violence"],
                              "subjects": [{"type": "person", "id": "P-0007", "role": "party"}]})
        assert post(serve.url, token, event)["accepted"] == 1
        sk.wait_for(lambda: received, 60, 0.5, "the leader's webhook to be called")
        text = orjson.dumps(received[0]).decode()
        assert "person:P-0007" in text and "/a/" in text
        assert client().get(f"{serve.url}/login").status_code == 200
    finally:
        serve.stop()
        hook.shutdown()
        hook.server_close()


def hazard_event(event_id: str, hazard_id: str) -> bytes:
    from pipeline.timeutil import format_utc

    return orjson.dumps({"event_id": event_id, "kind": "hazard", "type": "found", "source": "patrol-app",
                         "occurred_at": format_utc(time.time() - 60), "location": {"id": "HD-1-0101", "building": "1"},
                         "attributes": {"hazard_id": hazard_id}})


def test_a_config_directorys_assignments_decide_case_owners(tmp_path):
    """serve --config DIR: the storage writer's case owners come from DIR's assignments.yaml, not from
    the settings' config directory (where building 1's hazards belong to L01)."""
    import shutil

    config = tmp_path / "config"
    shutil.copytree(sk.ROOT / "config", config)
    assignments = config / "assignments.yaml"
    text = assignments.read_text(encoding="utf-8")
    start, end = text.index("assign:"), text.index("default:")
    assignments.write_text(text[:start] + "assign: []\ndefault: L05\n" + text[end:].split("\n", 1)[1],
                           encoding="utf-8")
    db_url = sqlite_url(tmp_path, "serve.db")
    engine = open_database(db_url)
    from pipeline.ingest import sources

    token = sources.create(engine, "patrol", "patrol-app", created_by="test")
    engine.dispose()
    serve = Serve(db_url, tmp_path, "--config", str(config))
    try:
        serve.start()
        assert post(serve.url, token, hazard_event("h-own-1", "YH-OWN-1"))["accepted"] == 1
        wait_processed(db_url)
    finally:
        serve.stop()
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            owner = conn.execute(sa.text("SELECT owner FROM cases WHERE ref = 'hazard:YH-OWN-1'")).scalar_one()
    finally:
        engine.dispose()
    assert owner == "L05"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_serve_promptly_and_cleanly(sig, tmp_path):
    """A supervisor's stop: serve exits 0 within a couple of seconds (uvicorn, the engine loop, the
    notifier), and every event it answered 200 for is stored and scored by the next start."""
    from pipeline.ingest import sources

    db_url = sqlite_url(tmp_path, "serve.db")
    engine = open_database(db_url)
    token = sources.create(engine, "patrol", "patrol-app", created_by="test")
    engine.dispose()
    config = tmp_path / "config"
    config.mkdir()
    (config / "channels.yaml").write_text("version: 1\nleaders: {}\n", encoding="utf-8")
    serve = Serve(db_url, tmp_path, "--config", str(config), env={"RISKWATCH_LINK_SECRET": secrets.token_hex(32)})
    serve.full = True       # the notifier's thread and the pages too
    stopped: list[float] = []
    accepted = 0
    try:
        serve.start()
        for i in range(20):
            accepted += post(serve.url, token, hazard_event(f"h-sig-{i}", f"YH-SIG-{i}"))["accepted"]
        assert serve.proc is not None
        started = time.monotonic()
        serve.proc.send_signal(sig)
        code = serve.proc.wait(timeout=30)
        stopped.append(time.monotonic() - started)
    finally:
        serve.kill()
    assert code == 0, serve.tail()
    assert stopped[0] < 3.0, f"serve took {stopped[0]:.1f} s to stop"
    assert accepted == 20 and sk.row_count(db_url, "events") == 20
    serve.start()            # what the engine loop had not stored yet, the next start does
    try:
        wait_processed(db_url)
    finally:
        serve.stop()
