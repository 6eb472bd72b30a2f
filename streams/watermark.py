"""The low watermark W of one events.by-entity partition (clock: event).

Every ingest instance sends, after the records of each batch and periodically when idle, a progress
tick per events.raw partition it owns to EVERY by-entity partition: (source partition, t_sent,
caught_up, max_t). t_sent is the greatest occurred_at among the accepted events that instance has
sent from that source partition since it took the partition over; caught_up says it has processed
the partition to its end; max_t is the greatest occurred_at ever accepted there (durable, from the
ingest-state table).

Kafka keeps one producer's messages to one partition in order, so a tick arrives after the records
it speaks for. Each events.raw partition is in occurred_at order (the assumption, docs/stream.md),
so once a tick (p, t_sent) has arrived, every record from p with occurred_at < t_sent is here. Hence

    W = min over source partitions p that are not caught up of t_sent(p)

and every pending record with t < W can be applied: nothing earlier can still come. A partition
without a tick yet (or without t_sent) holds W at -inf. When every partition is caught up, W = +inf:
everything pending is applied and, as at the end of a replay, the clock moves to the greatest
occurred_at seen (`end`) and deadlines due by then fire.
"""

from __future__ import annotations

INF = float("inf")
NEG_INF = float("-inf")


class Watermark:
    __slots__ = ("sources", "ticks")

    def __init__(self) -> None:
        self.sources: int | None = None                 # events.raw partition count
        self.ticks: dict[int, tuple] = {}               # source partition -> (t_sent, caught_up, max_t)

    def update(self, sources: int | None, ticks) -> None:
        if sources is not None:
            self.sources = sources
        for p, t_sent, caught_up, max_t in ticks:
            self.ticks[p] = (t_sent, bool(caught_up), max_t)

    def low(self) -> float:
        """W: records with occurred_at < W are complete (see the module doc)."""
        if self.sources is None:
            return NEG_INF
        low = INF
        ticks = self.ticks
        for p in range(self.sources):
            tick = ticks.get(p)
            if tick is None:
                return NEG_INF
            t_sent, caught_up, _ = tick
            if caught_up:
                continue
            if t_sent is None:
                return NEG_INF
            if t_sent < low:
                low = t_sent
        return low

    def end(self) -> float | None:
        """The greatest occurred_at accepted from any source partition (None before any)."""
        times = [tick[2] for tick in self.ticks.values() if tick[2] is not None]
        return max(times) if times else None

    def caught_up(self) -> bool:
        return self.low() == INF
