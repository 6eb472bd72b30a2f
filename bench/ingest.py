"""Benchmark: HTTP ingest (POST /v1/events) and `riskwatch serve`.

    .venv/bin/python -m bench.ingest [--events 60000] [--batch 500] [--clients 4] [--rate 200] [--seconds 30]
                                     [--bootstrap HOST:PORT] [--pg URL]

Needs the broker (and PostgreSQL for the serve-on-PostgreSQL figure). Everything runs on this machine:
the server is one process, the clients are asyncio tasks in this process.

1. ingest → Kafka: `riskwatch serve --kafka` (one process) with its own topic; --events synthetic events
   (one source, realistic sizes) are posted as NDJSON in batches of --batch by --clients concurrent
   clients; every 200 means the broker acknowledged every event (acks=all). Beside it, in the same
   run, the same events are produced straight to a second topic with aiokafka (acks=all, keyed by
   event_id, batched per partition as the sink does, all in flight at once): the producer's ceiling.
   The events are the simulator's (realistic kinds, sizes and entity counts), re-stamped to end an
   hour ago and given this run's event ids.
2. ingest → database: the same with `riskwatch serve` on PostgreSQL and on SQLite (accepted =
   committed with the accept log; the engine loop runs beside it in the same process).
3. latency: `riskwatch serve` on SQLite (the default, wall clock): events stamped "now" posted at a
   steady --rate events/s (10 per request) for --seconds; for each request, the time from its send to
   the engine's results being stored (the processed position passing its last event, polled every
   5 ms); and to its events being visible in `events` (the 200: they are committed before it).
Goals: >= 20,000 events/s through POST /v1/events, >= 50 % of producing straight to Kafka; p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
RISKWATCH = [sys.executable, "-m", "pipeline.cli"]
DEFAULT_PG = os.environ.get("RISKWATCH_TEST_PG_URL", "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch")
DEFAULT_BOOTSTRAP = os.environ.get("RISKWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
SOURCE = "bench-gw"
PER_DAY = 2330   # simulated events per day, roughly


def events(n: int, tag: str, workdir: Path) -> list[bytes]:
    """n realistic events (the simulator's 虹都中心, no malformed lines) ending an hour ago, all of one
    source, event ids unique to this run."""
    days = max(1, -(-n // PER_DAY))
    start = (datetime.now(UTC) - timedelta(days=days, hours=1)).date().isoformat() + "T00:00:00+00:00"
    path = workdir / f"sim-{tag}.jsonl"
    subprocess.run([*RISKWATCH, "simulate", "--days", str(days), "--seed", "5", "--start", start, "--to", str(path),
                    "--malformed-rate", "0"], cwd=ROOT, check=True, capture_output=True)
    out = []
    for line in path.read_bytes().splitlines()[:n]:
        doc = orjson.loads(line)
        doc["event_id"] = f"{tag}-{doc['event_id']}"
        doc["source"] = SOURCE
        out.append(orjson.dumps(doc))
    return out


def stamped_now(n: int, tag: str) -> list[bytes]:
    """n small sensor events stamped now (the latency run)."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    return [orjson.dumps({"event_id": f"{tag}-{i}", "kind": "monitoring", "type": "smoke_alarm", "source": SOURCE,
                          "occurred_at": now, "location": {"id": f"HD-{1 + i % 2}-{i % 30:02d}07",
                                                           "building": str(1 + i % 2)}}) for i in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    def __init__(self, db_url: str, workdir: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve-{self.port}.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([*RISKWATCH, "serve", "--port", str(self.port), "--no-pages", "--no-notify",
                                          "--db", db_url, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise SystemExit("serve did not start")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sqlite_db(workdir: Path, name: str) -> str:
    from pipeline.storage.db import open_database

    url = f"sqlite:///{workdir / name}"
    open_database(url).dispose()
    return url


def token_for(db_url: str) -> str:
    from pipeline.ingest import sources
    from pipeline.storage.db import open_database

    engine = open_database(db_url)
    try:
        return sources.create(engine, f"bench-{uuid.uuid4().hex[:6]}", SOURCE, created_by="bench")
    finally:
        engine.dispose()


async def post_all(url: str, token: str, lines: list[bytes], batch: int, clients: int) -> float:
    """Seconds to post every line in batches by `clients` concurrent clients; every answer must be 200."""
    bodies = [b"\n".join(lines[i:i + batch]) for i in range(0, len(lines), batch)]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            while not queue.empty():
                body = queue.get_nowait()
                r = await http.post(f"{url}/v1/events", content=body, headers=headers)
                if r.status_code != 200 or r.json()["rejected"]:
                    raise SystemExit(f"ingest answered {r.status_code}: {r.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start


async def produce_direct(bootstrap: str, topic: str, lines: list[bytes]) -> float:
    from aiokafka import AIOKafkaProducer

    from streams.ingest_producer import send_keyed

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024)
    await producer.start()
    try:
        keyed = [(orjson.loads(line)["event_id"].encode(), line) for line in lines]
        start = time.perf_counter()
        await send_keyed(producer, topic, keyed)
        return time.perf_counter() - start
    finally:
        await producer.stop()


def kafka_run(args, workdir: Path, lines: list[bytes]) -> None:
    from streams.kafka_io import create_topic, delete_topic
    from streams.topics import TopicNames

    tag = uuid.uuid4().hex[:8]
    prefix = f"bench.{tag}."
    names = TopicNames.make(prefix, f"rw-bench-{tag}")
    direct = f"{prefix}direct"
    db_url = sqlite_db(workdir, "tokens.db")
    token = token_for(db_url)
    for topic in (names.raw, direct):
        create_topic(args.bootstrap, topic, 4)
    serve = Serve(db_url, workdir, "--kafka", env={"RISKWATCH_KAFKA_BOOTSTRAP": args.bootstrap,
                                                   "RISKWATCH_TOPIC_PREFIX": prefix, "RISKWATCH_APP_ID": f"rw-bench-{tag}"})
    try:
        asyncio.run(post_all(serve.url, token, lines[:2000], args.batch, args.clients))   # warm-up
        http_s = asyncio.run(post_all(serve.url, token, lines, args.batch, args.clients))
        direct_s = asyncio.run(produce_direct(args.bootstrap, direct, lines))
    finally:
        serve.stop()
        for topic in (names.raw, direct):
            delete_topic(args.bootstrap, topic)
    n = len(lines)
    print(f"ingest -> Kafka: {n / http_s:,.0f} events/s through POST /v1/events (batches of {args.batch}, "
          f"{args.clients} clients); produced straight to Kafka: {n / direct_s:,.0f} events/s; "
          f"ratio {100 * direct_s / http_s:.0f} %")


def database_run(args, workdir: Path, lines: list[bytes], label: str, db_url: str) -> None:
    token = token_for(db_url)
    serve = Serve(db_url, workdir)
    try:
        asyncio.run(post_all(serve.url, token, lines[:2000], args.batch, args.clients))
        seconds = asyncio.run(post_all(serve.url, token, lines, args.batch, args.clients))
    finally:
        serve.stop()
    print(f"ingest -> {label}: {len(lines) / seconds:,.0f} events/s accepted (committed with the accept log)")


def latency_run(args, workdir: Path) -> None:
    db_url = sqlite_db(workdir, "latency.db")
    token = token_for(db_url)
    serve = Serve(db_url, workdir)
    engine = sa.create_engine(db_url)
    per_request = 10
    sent: dict[int, float] = {}         # last seq of the request -> send time
    acked: list[float] = []
    processed: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        pending = sorted(sent)
        with engine.connect() as conn:
            while not stop.is_set() or sent:
                done = conn.execute(sa.text("SELECT next_offset FROM processed_positions "
                                            "WHERE topic = 'serve.inbox'")).scalar() or 1
                conn.rollback()
                now = time.perf_counter()
                pending = sorted(sent)
                for seq in pending:
                    if seq < done:
                        processed.append(now - sent.pop(seq))
                if stop.is_set() and not sent:
                    return
                time.sleep(0.005)

    watcher = threading.Thread(target=poll, daemon=True)
    try:
        n_requests = int(args.rate * args.seconds / per_request)
        interval = per_request / args.rate
        http = httpx.Client(timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        watcher.start()
        start = time.perf_counter()
        for i in range(n_requests):
            at = start + i * interval
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = b"\n".join(stamped_now(per_request, f"l{i}"))
            t0 = time.perf_counter()
            sent[(i + 1) * per_request] = t0
            r = http.post(f"{serve.url}/v1/events", content=body, headers=headers)
            acked.append(time.perf_counter() - t0)
            if r.status_code != 200 or r.json()["accepted"] != per_request:
                raise SystemExit(f"serve answered {r.status_code}: {r.text[:300]}")
        stop.set()
        watcher.join(timeout=60)
    finally:
        stop.set()
        serve.stop()
        engine.dispose()

    def pct(values: list[float], p: float) -> float:
        return 1000 * statistics.quantiles(values, n=100)[p - 1] if len(values) > 1 else float("nan")

    print(f"serve latency at {args.rate} events/s for {args.seconds}s (SQLite, wall clock): "
          f"accepted (in events) p50 {pct(acked, 50):.0f} ms p99 {pct(acked, 99):.0f} ms; "
          f"scored and stored p50 {pct(processed, 50):.0f} ms p99 {pct(processed, 99):.0f} ms "
          f"max {1000 * max(processed):.0f} ms ({len(processed)} requests)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--bootstrap", default=DEFAULT_BOOTSTRAP)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--only", choices=["kafka", "db", "latency"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["kafka", "db", "latency"])
    with tempfile.TemporaryDirectory(prefix="rw-bench-ingest-") as tmp:
        workdir = Path(os.environ.get("BENCH_WORKDIR") or tmp)
        lines = events(args.events, uuid.uuid4().hex[:6], workdir) if only & {"kafka", "db"} else []
        if "kafka" in only:
            kafka_run(args, workdir, lines)
        if "db" in only:
            from tests.integration.pgkit import scratch_database

            with scratch_database(args.pg, "bench_ingest") as pg:
                database_run(args, workdir, lines, "PostgreSQL", pg)
            database_run(args, workdir, lines, "SQLite", sqlite_db(workdir, "serve.db"))
        if "latency" in only:
            latency_run(args, workdir)


if __name__ == "__main__":
    main()
