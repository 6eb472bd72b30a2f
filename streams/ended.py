"""Alerts the workflow ended (resolved or closed, docs/contract.md §5), for the scorers' engines.

The engine keeps an entity's open alert in its state and attaches later firings to it; once the
leader's workflow (API, notifier) resolves or closes that alert in the database, the next firing
must raise a new alert. The worker polls the database for such alerts every ALERT_POLL_EVERY
seconds (streams/app.py) and hands them to the scorer owning the entity (`Engine.end_alert`, which
ignores an alert that is not the entity's open one). They are remembered here, a few hundred a year
in this area, so that a partition taken over later forgets them too; the first poll of a process
reads them all, which also repeats any ending whose state write a crash lost.

Transport-free: the app polls and applies what `add` and `of_partition` return.
"""

from __future__ import annotations

from datetime import datetime, timedelta

# Poll from a little before the newest change seen: a transaction committed late with an earlier
# updated_at is still picked up (repeats are harmless).
OVERLAP = timedelta(minutes=5)


class EndedAlerts:
    def __init__(self) -> None:
        self.by_entity: dict[str, set[str]] = {}
        self.newest: datetime | None = None

    @property
    def since(self) -> datetime | None:
        return None if self.newest is None else self.newest - OVERLAP

    def add(self, rows) -> list[tuple[str, str]]:
        """rows: (alert_id, entity, updated_at); returns the (entity, alert_id) pairs not seen before."""
        new = []
        for alert_id, entity, updated_at in rows:
            ids = self.by_entity.setdefault(entity, set())
            if alert_id not in ids:
                ids.add(alert_id)
                new.append((entity, alert_id))
            if updated_at is not None and (self.newest is None or updated_at > self.newest):
                self.newest = updated_at
        return new

    def of_partition(self, partition: int, partition_of) -> list[tuple[str, str]]:
        return [(entity, alert_id) for entity, ids in self.by_entity.items() if partition_of(entity) == partition
                for alert_id in ids]
