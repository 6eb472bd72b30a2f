"""`simulate()` and the `Simulation` it returns.

A Simulation is a recipe, not a buffer: iterating it generates the stream (deterministically, in
bounded memory), so a year can be streamed to Kafka. `events` materialises the list for tests and
small runs; `truth` is known once the stream has been generated once (it is generated on demand).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.area import Area, load_area
from pipeline.errors import UsageError
from pipeline.simulate.background import Monitoring
from pipeline.simulate.casework import Casework
from pipeline.simulate.core import DAY, HOUR, PROTECTED, Ctx, dumps, parse_start
from pipeline.simulate.malformed import Corrupter
from pipeline.simulate.patrol import Patrol
from pipeline.simulate.scenarios import Scenarios

# Generators may schedule an event up to this long before the end of the day being generated
# (a patrol shift closing just before the hand-over); emission lags that much behind.
_EMIT_LAG = 2 * HOUR


@dataclass(frozen=True)
class Record:
    """One output line: the event it came from, the bytes written, and what it is."""

    event: dict
    line: bytes
    t: int  # occurred_at, epoch seconds
    meta: str | None  # None background, "P" protected background, "S1".. scenario, "Q" quiet


@dataclass
class Simulation:
    area: Area = field(repr=False)
    seed: int
    days: int
    start: datetime
    malformed_rate: float = 0.0
    _truth: dict | None = field(default=None, repr=False)
    _events: list[dict] | None = field(default=None, repr=False)
    stats: dict = field(default_factory=dict, repr=False)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.start.timestamp() + self.days * DAY, self.start.tzinfo)

    def _generate(self) -> Iterator[tuple[dict, int, str | None]]:
        ctx = Ctx(self.area, self.seed, self.start, self.days)
        monitoring = Monitoring(ctx)
        scenarios = Scenarios(ctx, monitoring)
        generators = (Patrol(ctx), monitoring, Casework(ctx))
        prefix = f"sim-{self.seed}-"
        n = 0
        for d in range(self.days):
            c0 = ctx.start + d * DAY
            c1 = c0 + DAY
            for gen in generators:
                gen.day(c0, c1)
            scenarios.inject()
            until = c1 - _EMIT_LAG if d < self.days - 1 else ctx.end
            for t, body, meta in ctx.drain(until):
                n += 1
                event_id = f"{prefix}{n:07d}"
                if meta is not None and meta[0] == "S":
                    meta = scenarios.record(meta, event_id, t)
                yield {"event_id": event_id, **body}, t, meta
        self._truth = scenarios.truth(self.seed, self.days)
        self.stats["events"] = n

    def records(self) -> Iterator[Record]:
        """Every output line in order, malformed ones included when malformed_rate > 0."""
        corrupter = Corrupter(self.seed, self.malformed_rate) if self.malformed_rate > 0 else None
        for event, t, meta in self._generate():
            clean = dumps(event)
            line = corrupter.line(event, clean, meta is None) if corrupter else clean
            yield Record(event, line, t, meta)
        if corrupter:
            self.stats["malformed"] = dict(sorted(corrupter.counts.items()))
            self.stats["replaced"] = corrupter.replaced

    def __iter__(self) -> Iterator[dict]:
        """The clean events (dicts with event_id), in time order."""
        for event, _, _ in self._generate():
            yield event

    @property
    def events(self) -> list[dict]:
        if self._events is None:
            self._events = list(self)
        return self._events

    @property
    def truth(self) -> dict:
        if self._truth is None:
            for _ in self._generate():
                pass
        assert self._truth is not None      # _generate() sets it when it ends
        return self._truth


def simulate(
    days: int,
    seed: int,
    start: datetime | str | None = None,
    area: Area | None = None,
    malformed_rate: float = 0.0,
) -> Simulation:
    """A deterministic simulated stream for the area (default: config/area.yaml).

    `start` defaults to 2024-11-04T00:00:00+08:00 (a Monday); a naive start is read in the area's
    time zone. The scenarios start on the first day and are complete within 72 hours.
    """
    if days < 1:
        raise UsageError("days must be at least 1")
    if not 0.0 <= malformed_rate <= 1.0:
        raise UsageError("malformed_rate must be between 0 and 1")
    area = area if area is not None else load_area()
    return Simulation(area, seed, days, parse_start(start, area.tz), malformed_rate)


__all__ = ["Record", "Simulation", "simulate", "PROTECTED"]
