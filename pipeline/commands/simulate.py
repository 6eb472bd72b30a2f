"""`riskwatch simulate`: a realistic, seeded stream of 虹都中心 events with ground truth."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def simulate_cmd(
    days: Annotated[int, typer.Option(min=1, max=3660, help="Days to simulate")] = 7,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same output")] = 1,
    to: Annotated[str, typer.Option("--to", help="Output JSON Lines file, or 'kafka'")] = "var/sim.jsonl",
    start: Annotated[Optional[str], typer.Option(help="First day (RFC 3339), default 2024-11-04T00:00:00+08:00")] = None,
    malformed_rate: Annotated[float, typer.Option(min=0.0, max=1.0, help="Fraction of malformed lines to mix in")] = 0.0,
    topic: Annotated[str, typer.Option(help="Topic with --to kafka")] = "events.raw",
    partitions: Annotated[int, typer.Option(min=1, help="Partitions when the topic is created")] = 4,
) -> None:
    """Simulate patrols, sensors, disputes, hazards and injected risk scenarios (*.truth.json beside)."""
    from pipeline.simulate.command import simulate_command

    simulate_command(days, seed, to, start, malformed_rate, topic, partitions)
