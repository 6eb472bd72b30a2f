"""Benchmark: events/s through the whole stream (produce -> database rows visible), beside a bare
aiokafka consumer reading the same topic, and produce -> DB-visible latency at a steady rate.

    .venv/bin/python -m bench.stream [--events 200000] [--partitions 4] [--rate 2000] [--seconds 20]
                                     [--db URL] [--bootstrap HOST:PORT] [--keep]

Needs the broker and PostgreSQL (`make services`). Each run uses its own topics (bench.<id>.*), consumer
group and scratch database (rw_bench_<id>), removed afterwards unless --keep.

1. throughput: a simulated stream (5 % malformed lines) of --events messages is produced to a
   --partitions events.raw (as `riskwatch produce` does); then ONE worker (`riskwatch worker --clock
   event`, a separate process, as in production) starts. Reported: produce rate; pipeline events/s
   from the worker's start to the last row visible (start-up included) and from its first row to the
   last (steady state); rows = accepted events + rejections + duplicates, and the contributions.
2. bare consumer: an aiokafka consumer (no group, no processing) reads the same topic from the start,
   in the same run: the practical limit of a Python consumer on this machine and broker. Beside it,
   a Faust agent that only takes and acks the same messages: the limit of Faust's per-message path.
3. latency: a fresh deployment with `--clock wall` (live mode); events stamped "now" are produced at
   --rate events/s for --seconds; for each, the time from its send to its row being visible in
   `events` (polled every 20 ms). p50 / p99 / max.
Goals: >= 20,000 events/s on one worker, >= 50 % of the bare consumer, p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import sqlalchemy as sa

from tests.integration.pgkit import create_database, drop_database

ROOT = Path(__file__).resolve().parents[1]

DEFAULT_URL = os.environ.get("RISKWATCH_TEST_PG_URL", "postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch")
DEFAULT_BOOTSTRAP = os.environ.get("RISKWATCH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
CST = timezone(timedelta(hours=8))
PER_DAY = 2330   # simulated messages per day, roughly


class Deployment:
    def __init__(self, bootstrap: str, db_url: str, partitions: int, clock: str, workdir: Path):
        tag = uuid.uuid4().hex[:8]
        self.prefix, self.app_id = f"bench.{tag}.", f"rw-bench-{tag}"
        self.raw = f"{self.prefix}events.raw"
        self.bootstrap, self.db_url, self.partitions, self.clock = bootstrap, db_url, partitions, clock
        self.log = workdir / f"worker-{tag}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        env = dict(os.environ, RISKWATCH_KAFKA_BOOTSTRAP=self.bootstrap, RISKWATCH_DB_URL=self.db_url,
                   RISKWATCH_APP_ID=self.app_id, RISKWATCH_TOPIC_PREFIX=self.prefix,
                   RISKWATCH_TOPIC_PARTITIONS=str(self.partitions), RISKWATCH_CLOCK=self.clock)
        started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "worker", "--log-level", "warning"],
                                     cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"))
        return started

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def delete_topics(self) -> None:
        """The deployment's topics and consumer groups (topics only while a worker's membership lasts)."""
        from pipeline.errors import DeploymentBusy
        from streams.topics import TopicNames, delete_deployment, delete_topics

        names = TopicNames.make(self.prefix, self.app_id)
        try:
            delete_deployment(self.bootstrap, names, timeout=10)
        except DeploymentBusy:
            delete_topics(self.bootstrap, names)


@contextlib.contextmanager
def deployment(args, clock: str, workdir: Path):
    """A scratch database and a worker deployment of its own; removed afterwards unless --keep."""
    url = create_database(args.db, "bench")
    dep = Deployment(args.bootstrap, url, args.partitions, clock, workdir)
    engine = sa.create_engine(url)
    try:
        yield dep, engine
    finally:
        dep.stop()
        engine.dispose()
        if not args.keep:
            dep.delete_topics()
            drop_database(args.db, url)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("events", "rejections", "duplicates", "contributions")}


def produce(bootstrap: str, topic: str, lines: list[bytes], partitions: int) -> float:
    from streams.kafka_io import create_topic, produce_lines
    from streams.partitioning import OccurredAtPartitioner

    create_topic(bootstrap, topic, partitions)
    start = time.monotonic()
    produce_lines(bootstrap, topic, lines, partition_fn=OccurredAtPartitioner(partitions))
    return time.monotonic() - start


def bare_consumer(bootstrap: str, topic: str, partitions: int, expected: int) -> float:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def run() -> float:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
            start, n = time.monotonic(), 0
            while n < expected:
                batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                n += sum(len(records) for records in batch.values())
            return time.monotonic() - start
        finally:
            await consumer.stop()

    return asyncio.run(run())


def faust_ceiling(bootstrap: str, topic: str, expected: int) -> float:
    """msg/s of a Faust agent that only takes and acks the topic's messages (no work): what the
    framework's per-message path allows before any processing. Runs in its own process."""
    out = subprocess.run([sys.executable, "-m", "bench.stream", "--faust-only", topic, str(expected), "--bootstrap", bootstrap],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    for line in (out.stdout + out.stderr).splitlines():   # Faust's worker may route print() to its log
        if "faust-only " in line:
            return float(line.split("faust-only ")[1].split()[0])
    raise SystemExit(f"faust-only run failed:\n{out.stderr[-2000:]}")


def _faust_only(bootstrap: str, topic: str, expected: int) -> None:
    import signal

    import faust

    tmp = tempfile.mkdtemp(prefix="rw-bench-faust-")
    app = faust.App(f"rw-bench-faust-{uuid.uuid4().hex[:8]}", broker=f"kafka://{bootstrap}", store="memory://",
                    web_enabled=False, topic_disable_leader=True, stream_wait_empty=False, datadir=tmp,
                    consumer_auto_offset_reset="earliest", stream_buffer_maxsize=16384)
    source = app.topic(topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    state = {"n": 0, "start": None}

    @app.agent(source)
    async def only_ack(stream):
        async for events in stream.noack_take(4000, within=0.05):
            if state["start"] is None:
                state["start"] = time.monotonic()
            state["n"] += len(events)
            for event in events:
                await stream.ack(event)
            if state["n"] >= expected:
                print(f"faust-only {state['n'] / (time.monotonic() - state['start']):.0f}", flush=True)
                os.kill(os.getpid(), signal.SIGTERM)

    app.Worker(loglevel="warning", quiet=True).execute_from_commandline()


def throughput(args, workdir: Path) -> dict:
    from pipeline.configset import load_config
    from pipeline.replay import replay
    from pipeline.simulate.simulation import simulate
    from pipeline.simulate.writer import iter_lines

    days = max(1, -(-args.events // PER_DAY))
    lines = list(iter_lines(simulate(days, 90, malformed_rate=0.05)))
    expected = replay(lines, load_config())
    with deployment(args, "event", workdir) as (dep, engine):
        produce_s = produce(args.bootstrap, dep.raw, lines, args.partitions)
        total = len(lines)
        want = {"events": expected.accepted, "rejections": len(expected.rejections), "duplicates": expected.duplicates,
                "contributions": len(expected.contributions)}
        started = dep.start()
        first = None
        while True:
            c = counts(engine)
            now = time.monotonic()
            if first is None and c["events"]:
                first = now
            if all(c[k] >= v for k, v in want.items()):
                done = now
                break
            if dep.proc.poll() is not None:
                raise SystemExit(f"worker exited ({dep.proc.returncode}); see {dep.log}")
            if now - started > 1800:
                raise SystemExit(f"not done after 30 min: {c} of {want}")
            time.sleep(0.05)
        bare_s = bare_consumer(args.bootstrap, dep.raw, args.partitions, total)
        faust_rate = faust_ceiling(args.bootstrap, dep.raw, total)
    return {
        "messages": total, "rows": want, "produce_per_s": total / produce_s,
        "pipeline_per_s": total / (done - started), "pipeline_steady_per_s": total / (done - first),
        "bare_consumer_per_s": total / bare_s, "faust_only_per_s": faust_rate, "seconds": done - started,
    }


def latency(args, workdir: Path) -> dict:
    from kafka import KafkaProducer

    from pipeline.simulate.simulation import simulate
    from pipeline.simulate.writer import iter_lines
    from streams.kafka_io import create_topic
    from streams.partitioning import OccurredAtPartitioner

    n = args.rate * args.seconds
    template = [orjson.loads(x) for x in iter_lines(simulate(max(1, n // PER_DAY + 1), 91))][:n]
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    with deployment(args, "wall", workdir) as (dep, engine):
        create_topic(args.bootstrap, dep.raw, args.partitions)
        dep.start()
        time.sleep(8)      # join the group, create topics, recover (empty) tables
        producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all", linger_ms=0)
        partition = OccurredAtPartitioner(args.partitions)
        stop = threading.Event()

        def poll() -> None:
            while not stop.is_set() or len(seen) < len(sent):
                pending = [eid for eid in list(sent) if eid not in seen]
                if pending:
                    with engine.connect() as conn:
                        rows = conn.execute(sa.text("SELECT event_id FROM events WHERE event_id = ANY(:ids)"),
                                            {"ids": pending}).scalars().all()
                    now = time.monotonic()
                    for eid in rows:
                        seen.setdefault(eid, now)
                if stop.is_set() and time.monotonic() - last_send > 60:
                    break
                time.sleep(0.02)

        last_send = time.monotonic()
        poller = threading.Thread(target=poll)
        poller.start()
        start = time.monotonic()
        for i, doc in enumerate(template):
            due = start + i / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            doc = dict(doc, event_id=f"lat-{i:07d}",
                       occurred_at=datetime.now(CST).isoformat(timespec="milliseconds"))
            line = orjson.dumps(doc)
            eid = doc["event_id"]
            sent[eid] = time.monotonic()
            producer.send(dep.raw, line, partition=partition(line))
            last_send = sent[eid]
        producer.flush()
        stop.set()
        poller.join()
        producer.close()
    lat = sorted((seen[e] - sent[e]) * 1000 for e in sent if e in seen)
    q = statistics.quantiles(lat, n=100)
    return {"events": n, "visible": len(lat), "p50_ms": q[49], "p99_ms": q[98], "max_ms": lat[-1],
            "rate_per_s": args.rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--db", default=DEFAULT_URL)
    parser.add_argument("--bootstrap", default=DEFAULT_BOOTSTRAP)
    parser.add_argument("--keep", action="store_true", help="keep topics and scratch databases")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--faust-only", nargs=2, metavar=("TOPIC", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.faust_only:
        _faust_only(args.bootstrap, args.faust_only[0], int(args.faust_only[1]))
        return
    workdir = Path(tempfile.mkdtemp(prefix="rw-bench-"))
    t = throughput(args, workdir)
    print(f"messages                 {t['messages']:>10,}   (rows: {t['rows']})")
    print(f"produce                  {t['produce_per_s']:>10,.0f} msg/s")
    print(f"pipeline (incl. start)   {t['pipeline_per_s']:>10,.0f} events/s   ({t['seconds']:.1f} s to the last row)")
    print(f"pipeline (steady)        {t['pipeline_steady_per_s']:>10,.0f} events/s")
    print(f"bare aiokafka consumer   {t['bare_consumer_per_s']:>10,.0f} msg/s")
    print(f"pipeline / bare          {t['pipeline_steady_per_s'] / t['bare_consumer_per_s']:>10.1%}")
    print(f"Faust agent, take+ack    {t['faust_only_per_s']:>10,.0f} msg/s   (no work: the framework's own path)")
    print(f"pipeline / Faust-only    {t['pipeline_steady_per_s'] / t['faust_only_per_s']:>10.1%}")
    if not args.skip_latency:
        lat = latency(args, workdir)
        print(f"latency at {lat['rate_per_s']:,}/s        p50 {lat['p50_ms']:.0f} ms   p99 {lat['p99_ms']:.0f} ms   "
              f"max {lat['max_ms']:.0f} ms   ({lat['visible']:,} of {lat['events']:,} events visible)")
    print(f"worker logs: {workdir}")


if __name__ == "__main__":
    main()
