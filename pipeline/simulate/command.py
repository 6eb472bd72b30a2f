"""The logic behind `riskwatch simulate` (the Typer command in pipeline/cli.py calls `simulate_command`)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.errors import RiskwatchError, UsageError
from pipeline.simulate.core import parse_start
from pipeline.simulate.simulation import Record, Simulation, simulate
from pipeline.simulate.writer import write_jsonl, write_truth

KAFKA = "kafka"
DEFAULT_TOPIC = "events.raw"


def simulate_command(
    days: int,
    seed: int,
    to: str,
    start: str | None,
    malformed_rate: float,
    topic: str = DEFAULT_TOPIC,
    partitions: int = 4,
    *,
    area_file: str | Path | None = None,
    truth_dir: str | Path = "var",
) -> None:
    """Generate `days` of events and write them to a JSON Lines file or to Kafka topic `topic`.

    to: a file path, `-` for stdout, or `kafka` (bootstrap from settings; the topic is created with
    `partitions` partitions when missing). The ground truth goes beside the file
    (`<file>.truth.json`), or for kafka/stdout to `<truth_dir>/sim-<seed>-<days>d.truth.json`.
    Prints a one-line summary (to stderr when the events go to stdout). Failures are pipeline.errors
    classes (an unwritable output is a RiskwatchError), reported by the CLI's one handler.
    """
    from pipeline.area import DEFAULT_AREA_FILE, load_area

    area = load_area(area_file or DEFAULT_AREA_FILE)
    try:
        first = parse_start(start, area.tz)
    except ValueError:
        raise UsageError(f"--start: not an RFC 3339 time or a date: {start!r}") from None
    sim = simulate(days, seed, start=first, area=area, malformed_rate=malformed_rate)
    try:
        count, target, truth = _run(sim, to, topic, partitions)
        if truth is None:
            truth = write_truth(sim, Path(truth_dir) / f"sim-{seed}-{days}d.truth.json")
    except OSError as exc:
        raise RiskwatchError(f"cannot write: {exc}") from None

    malformed = f", {sim.stats['replaced']} malformed/duplicate" if malformed_rate > 0 else ""
    summary = (
        f"simulated {count} events{malformed} over {days} days "
        f"({sim.start.isoformat()} .. {sim.end.isoformat()}), {len(sim.truth['scenarios'])} scenarios, "
        f"{len(sim.truth['quiet'])} quiet entities -> {target} (truth: {truth})"
    )
    print(summary, file=sys.stderr if to == "-" else sys.stdout)


def _run(sim: Simulation, to: str, topic: str, partitions: int) -> tuple[int, str, Path | None]:
    with _Progress(sim) as progress:
        if to == KAFKA:
            return _to_kafka(sim, topic, partitions, progress.update), f"kafka topic {topic}", None
        if to == "-":
            count = 0
            out = sys.stdout.buffer
            for record in sim.records():
                out.write(record.line + b"\n")
                count += 1
                progress.update(record)
            out.flush()
            return count, "stdout", None
        count, truth = write_jsonl(sim, to, on_record=progress.update)
        return count, to, truth


def _to_kafka(sim: Simulation, topic: str, partitions: int, on_record) -> int:
    from pipeline.settings import load_settings
    from streams import kafka_io

    bootstrap = load_settings().kafka_bootstrap
    kafka_io.create_topic(bootstrap, topic, partitions)

    def lines():
        for record in sim.records():
            on_record(record)
            yield record.line

    # No key: events.raw is read in order per partition; the ingest step re-keys by entity.
    return kafka_io.produce_lines(bootstrap, topic, lines())


class _Progress:
    """A Rich progress bar over simulated days, on stderr, only when stderr is a terminal."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.start = sim.start.timestamp()
        self.day = -1
        self.bar = None

    def __enter__(self):
        if sys.stderr.isatty() and self.sim.days >= 7:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("days"),
                TimeElapsedColumn(), console=Console(stderr=True), transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("days", total=self.sim.days)
        return self

    def update(self, record: Record) -> None:
        if self.bar is None:
            return
        day = int((record.t - self.start) // 86_400)
        if day != self.day:
            self.day = day
            self.bar.update(self.task, completed=day)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.update(self.task, completed=self.sim.days)
            self.bar.stop()
        return False
