"""Writing a simulation: JSON Lines file plus `<output>.truth.json`, or lines for Kafka."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from pipeline.simulate.simulation import Simulation


def iter_lines(sim: Simulation) -> Iterator[bytes]:
    """One bytes object per event, without a trailing newline (one Kafka message each)."""
    for record in sim.records():
        yield record.line


def truth_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".truth.json")


def write_truth(sim: Simulation, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(sim.truth, option=orjson.OPT_INDENT_2) + b"\n")
    return path


def write_jsonl(sim: Simulation, path: str | Path, *, on_record=None) -> tuple[int, Path]:
    """Write the stream to `path` (JSON Lines) and the ground truth beside it.

    Returns (lines written, truth file path). `on_record(record)` is called per line (progress).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "wb", buffering=1 << 20) as fh:
        write = fh.write
        for record in sim.records():
            write(record.line)
            write(b"\n")
            n += 1
            if on_record is not None:
                on_record(record)
    return n, write_truth(sim, truth_path(path))
