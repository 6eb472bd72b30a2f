"""Benchmark: `riskwatch replay` throughput on a simulated month, beside the raw parse rate.

    .venv/bin/python -m bench.engine [--days 30] [--seed 1] [--repeat 3]

Prints events/s of reading + JSON-parsing the file (the practical limit for any Python consumer),
events/s of the full replay (contract validation, de-duplication, every default rule, scoring,
alerts) and their ratio, both measured in this run as the best CPU time of --repeat runs. Also the memory the engine
keeps per tracked entity. Goal: >= 100,000 events/s and >= 25 % of the raw rate.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import orjson

from pipeline.area import load_area
from pipeline.configset import load_config
from pipeline.replay import read_lines, replay
from pipeline.simulate import simulate, write_jsonl

ROOT = Path(__file__).resolve().parent.parent


def deep_size(obj, seen: set[int] | None = None) -> int:
    """Bytes held by a structure of dicts, lists, tuples and scalars (shared objects counted once)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        size += sum(deep_size(v, seen) for v in obj)
    return size


def best_of(repeat: int, fn) -> float:
    """Best CPU time of `repeat` runs: process time, so other work on the machine does not count."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    path = ROOT / "var" / "bench" / f"sim-{args.seed}-{args.days}d.jsonl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(simulate(days=args.days, seed=args.seed, area=load_area()), path)
    config = load_config()
    events = sum(1 for _ in read_lines(path))

    def raw() -> None:
        loads = orjson.loads
        for line in read_lines(path):
            loads(line)

    results = {}

    def full() -> None:
        results["r"] = replay(read_lines(path), config)

    raw_s = best_of(args.repeat, raw)
    replay_s = best_of(args.repeat, full)
    result = results["r"]
    entities = result.engine.entities
    per_entity = deep_size(entities) / max(1, len(entities))
    raw_rate, replay_rate = events / raw_s, events / replay_s
    print(f"input            {path.relative_to(ROOT)}: {events:,} events, {args.days} simulated days")
    print(f"raw read+parse   {raw_rate:12,.0f} events/s   (baseline, same run)")
    print(f"replay           {replay_rate:12,.0f} events/s   ({result.accepted:,} accepted, "
          f"{len(result.contributions):,} contributions, {sum(c.change == 'raised' for c in result.alert_changes)} alerts)")
    print(f"ratio            {replay_rate / raw_rate:12.1%}   of the raw rate")
    print(f"engine state     {len(entities):,} entities tracked at the end, {per_entity:,.0f} bytes each on average")


if __name__ == "__main__":
    main()
