"""Simulation driver: a day-by-day event heap, event ids in time order, ground truth, lines out.

Generators push event bodies (everything but `event_id`) at integer epoch seconds into one heap.
The driver lets every generator produce one day, then emits every event due before the day's end in
(time, push order) and numbers them. Follow-ups scheduled for later days (a mediation two days after a
report) wait in the heap, so memory stays bounded by the events in flight, not by the run length.

Determinism: one `random.Random(seed)` drawn in a fixed order, no wall clock, no set iteration;
the same arguments give byte-identical output.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson

from pipeline.area import Area
from pipeline.simulate.area_model import World

DAY = 86_400
HOUR = 3_600
MINUTE = 60
DEFAULT_START = "2024-11-04T00:00:00+08:00"  # a Monday
SIGNAL_GAP = 28 * DAY  # background: one score-carrying event per place in this time (Ctx.claim)

# meta values carried beside each event: None = background that may be replaced by a malformed line;
# PROTECTED = background whose loss would change what rules see (patrol visits, case lifecycles);
# "S1".."S7" = scenario event; QUIET = event of a quiet entity.
PROTECTED = "P"
QUIET = "Q"


class Ctx:
    """Shared state of one run: rng, clock range, the event heap and id counters."""

    def __init__(self, area: Area, seed: int, start: datetime, days: int):
        self.area = area
        self.world = World(area)
        self.seed = seed
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(area.timezone)
        self.start = int(start.timestamp())
        self.days = days
        self.end = self.start + days * DAY
        # Asia/Shanghai has had no DST since 1991; the offset at the start holds for the run.
        offset = start.astimezone(self.tz).utcoffset()
        assert offset is not None      # an aware datetime in a ZoneInfo zone always has one
        self.offset = int(offset.total_seconds())
        self._heap: list = []
        self._seq = 0
        self._counters: dict[tuple[str, int], int] = {}
        self.patrol_gap: tuple[str, int, int] | None = None  # (checkpoint id, from, length): S4
        self._scored: dict[str, list[int]] = {}

    def claim(self, place_id: str, t: int, gap: int = SIGNAL_GAP) -> bool:
        """Reserve `place_id` for one score-carrying background event at `t`.

        Refused (False) when another one is within `gap` of t at that place, before or after (events
        are claimed when scheduled, which may be days ahead). This keeps every place's background
        to single, well separated signals that never add up: with half-lives of at most 14 days, what
        is left of all earlier signals 28 days apart is at most 1/3 of the largest one.
        """
        times = self._scored.get(place_id)
        if times is None:
            self._scored[place_id] = [t]
            return True
        if any(abs(t - x) < gap for x in times):
            return False
        times.append(t)
        return True

    # ------------------------------------------------------------------ time helpers
    def iso(self, t: int) -> str:
        return datetime.fromtimestamp(t, self.tz).isoformat()

    def local_secs(self, t: int) -> int:
        """Seconds since local midnight."""
        return (t + self.offset) % DAY

    def local_weekday(self, t: int) -> int:
        return ((t + self.offset) // DAY + 3) % 7  # 1970-01-01 was a Thursday (3)

    def at(self, chunk_start: int, secs_of_day: int) -> int:
        """The time in [chunk_start, chunk_start + 1 day) whose local time of day is `secs_of_day`."""
        return chunk_start + (secs_of_day - self.local_secs(chunk_start)) % DAY

    def hours(self, chunk_start: int, weights: Sequence[float], k: int) -> list[int]:
        """k times in the chunk drawn from an hour-of-day profile (24 weights), sorted."""
        hours = self.rng.choices(range(24), weights=weights, k=k)
        rnd = self.rng.randrange
        return sorted(self.at(chunk_start, h * HOUR + rnd(HOUR)) for h in hours)

    def office(self, t: int) -> int:
        """`t`, or when it falls outside 08:30-18:00 local, the next morning soon after 08:30."""
        secs = self.local_secs(t)
        if 8 * HOUR + 30 * MINUTE <= secs < 18 * HOUR:
            return t
        return t + (8 * HOUR + 30 * MINUTE - secs) % DAY + self.rng.randint(0, 2 * HOUR)

    def new_id(self, prefix: str, t: int, width: int = 4) -> str:
        year = datetime.fromtimestamp(t, self.tz).year
        n = self._counters.get((prefix, year), 0) + 1
        self._counters[(prefix, year)] = n
        return f"{prefix}-{year}-{n:0{width}d}"

    def poisson(self, lam: float) -> int:
        # Knuth; lam is small (a few per day)
        limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    # ------------------------------------------------------------------ events
    def push(
        self,
        t: int,
        kind: str,
        type_: str,
        source: str,
        *,
        reported_after: int | None = None,
        location: dict | None = None,
        subjects: list | None = None,
        severity: int | None = None,
        tags: list | None = None,
        attributes: dict | None = None,
        text: str | None = None,
        meta: str | None = None,
    ) -> dict | None:
        """Schedule one event; events outside [start, end) are dropped (None is returned)."""
        if not self.start <= t < self.end:
            return None
        body: dict = {"kind": kind, "type": type_, "occurred_at": self.iso(t), "source": source}
        if reported_after is not None:
            body["reported_at"] = self.iso(t + reported_after)
        if location is not None:
            body["location"] = location
        if subjects is not None:
            body["subjects"] = subjects
        if severity is not None:
            body["severity"] = severity
        if tags is not None:
            body["tags"] = tags
        if attributes is not None:
            body["attributes"] = attributes
        if text is not None:
            body["text"] = text
        self._seq += 1
        heapq.heappush(self._heap, (t, self._seq, body, meta))
        return body

    def drain(self, until: int) -> Iterator[tuple[int, dict, str | None]]:
        heap = self._heap
        while heap and heap[0][0] < until:
            t, _, body, meta = heapq.heappop(heap)
            yield t, body, meta


def person(pid: str, role: str) -> dict:
    return {"type": "person", "id": pid, "role": role}


def business(bid: str, role: str) -> dict:
    return {"type": "business", "id": bid, "role": role}


def parse_start(start: datetime | str | None, tz: ZoneInfo) -> datetime:
    """An aware start in the area's zone; a naive one is read as area-local time."""
    if start is None:
        start = DEFAULT_START
    if isinstance(start, str):
        start = datetime.fromisoformat(start)
    if start.tzinfo is None:
        start = start.replace(tzinfo=tz)
    start = start.astimezone(tz)
    return start - timedelta(microseconds=start.microsecond)


def dumps(event: dict) -> bytes:
    """One JSON Lines record: UTF-8, non-ASCII kept as is, compact (orjson's only form)."""
    return orjson.dumps(event)
