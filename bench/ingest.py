"""Benchmark: HTTP ingest (POST /v1/events) and `riskwatch serve`.

    .venv/bin/python -m bench.ingest [--events 150000] [--batch 500] [--clients 8] [--rounds 3] [--rate 200]
                                     [--seconds 30] [--bootstrap HOST:PORT] [--pg URL] [--only kafka|db|latency]

Needs the broker (and PostgreSQL for the serve-on-PostgreSQL figure). Everything runs on this machine:
the server is one process, the clients are asyncio tasks in this process.

1. ingest → Kafka: `riskwatch serve --kafka` (one process) with its own topic; --events synthetic events
   (one source, realistic sizes) are posted as NDJSON in batches of --batch by --clients concurrent
   clients; every 200 means the broker acknowledged every event (acks=all). Beside it, in the same
   run, the same events go straight to Kafka from this process, twice:
   - like for like (the ratio's baseline): the endpoint's own Kafka sink (streams/ingest_producer.py:
     keyed by event_id, batched per partition, group commit, acks=all) given the same batches by the
     same number of concurrent callers, without HTTP and validation; the ratio is the endpoint's
     rate over this one, so it says what HTTP, the token and the contract's validation cost;
   - the producer's ceiling: every event in flight at once (one call of send_keyed), no batching
     by request at all.
   Each is warmed up, then the three are measured in turn --rounds times; the best of each is shown.
   The events are the simulator's (realistic kinds, sizes and entity counts), stamped to end an
   hour ago, with this run's event ids.
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


def batches(lines: list[bytes], batch: int) -> list[list[bytes]]:
    return [lines[i:i + batch] for i in range(0, len(lines), batch)]


async def concurrently(work: list, clients: int, call) -> float:
    """Seconds for `clients` concurrent callers to take every item of `work` in turn and await `call` on it."""
    queue: asyncio.Queue = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)

    async def caller() -> None:
        while not queue.empty():
            await call(queue.get_nowait())

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(clients)))
    return time.perf_counter() - start


async def post_all(url: str, token: str, lines: list[bytes], batch: int, clients: int) -> float:
    """Seconds to post every line in batches by `clients` concurrent clients; every answer must be 200.
    The clients use aiohttp (installed with Faust): a third of httpx's CPU per request, and the clients
    share the machine with the server under test."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        async def post(body: bytes) -> None:
            async with http.post(f"{url}/v1/events", data=body, headers=headers) as r:
                answer = await r.read()
                if r.status != 200 or orjson.loads(answer)["rejected"]:
                    raise SystemExit(f"ingest answered {r.status}: {answer[:300]!r}")

        return await concurrently([b"\n".join(b) for b in batches(lines, batch)], clients, post)


async def sink_direct(bootstrap: str, topic: str, lines: list[bytes], batch: int, clients: int) -> float:
    """Seconds for the endpoint's Kafka sink to take the same batches from as many concurrent callers."""
    from pipeline.ingest.items import Accepted
    from streams.ingest_producer import KafkaSink

    def accepted(line: bytes) -> Accepted:
        doc = orjson.loads(line)
        return Accepted(doc["event_id"], doc["kind"], doc["type"], 0.0, line)

    work = [[accepted(line) for line in b] for b in batches(lines, batch)]
    sink = KafkaSink(bootstrap, topic)
    await sink.ready()
    try:
        return await concurrently(work, clients, sink.accept)
    finally:
        await sink.close()


async def produce_ceiling(bootstrap: str, topic: str, lines: list[bytes]) -> float:
    """Seconds to produce every line with all of them in flight at once (one send_keyed)."""
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
    direct, ceiling = f"{prefix}direct", f"{prefix}ceiling"
    db_url = sqlite_db(workdir, "tokens.db")
    token = token_for(db_url)
    for topic in (names.raw, names.dlq, direct, ceiling):
        create_topic(args.bootstrap, topic, 4)
    serve = Serve(db_url, workdir, "--kafka", env={"RISKWATCH_KAFKA_BOOTSTRAP": args.bootstrap,
                                                   "RISKWATCH_TOPIC_PREFIX": prefix, "RISKWATCH_APP_ID": f"rw-bench-{tag}"})
    runs = {
        "http": lambda part: post_all(serve.url, token, part, args.batch, args.clients),
        "sink": lambda part: sink_direct(args.bootstrap, direct, part, args.batch, args.clients),
        "ceiling": lambda part: produce_ceiling(args.bootstrap, ceiling, part),
    }
    best = dict.fromkeys(runs, float("inf"))
    try:
        for run in runs.values():   # warm-up: connections, metadata, the broker's own JIT
            asyncio.run(run(lines[:5000]))
        for _ in range(args.rounds):
            for name, run in runs.items():
                best[name] = min(best[name], asyncio.run(run(lines)))
    finally:
        serve.stop()
        for topic in (names.raw, names.dlq, direct, ceiling):
            delete_topic(args.bootstrap, topic)
    n = len(lines)
    http, sink, ceil = (n / best[name] for name in runs)
    print(f"ingest -> Kafka ({n:,} events, batches of {args.batch}, {args.clients} clients, best of {args.rounds}): "
          f"{http:,.0f} events/s through POST /v1/events; the same batches through the same Kafka sink without HTTP "
          f"and validation: {sink:,.0f} events/s, ratio {100 * http / sink:.0f} %; every event in flight at once: "
          f"{ceil:,.0f} events/s ({100 * http / ceil:.0f} %)")


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
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
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
