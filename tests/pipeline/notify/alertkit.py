"""Helpers for the alert delivery tests: a fake clock, alerts written the way the engine's records
reach the database (storage Writer), channel configs pointing at local peers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from pipeline.engine.alerts import AlertChange
from pipeline.engine.engine import Contribution
from pipeline.notify.config import ChannelsConfig, ChannelSpec, SmtpOptions
from pipeline.storage.rows import EntityRecord
from pipeline.storage.writer import Writer

T0 = datetime(2024, 11, 5, 1, 30, tzinfo=UTC)   # 09:30 in Shanghai


@dataclass
class FakeClock:
    """`now` moves only when told; `sleep` advances it (and records the waits) instead of waiting."""

    now: datetime = T0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, **kw) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def raise_alert(engine: sa.Engine, alert_id: str, entity: str, assignee: str, at: datetime,
                level: str = "high", points: float = 70.0, rule: str = "smoke-alarm",
                building: str | None = "1", change: str = "raised") -> None:
    """Store a contribution and an alert change exactly as the stream's sink stores the engine's."""
    t = at.timestamp()
    contribution = Contribution(entity, rule, "fire", points, t, (f"ev-{alert_id}-{change}",), 14 * 86400.0, building,
                                points, level)
    alert = AlertChange(change, alert_id, entity, level, assignee, (rule,), t, points)
    with Writer(engine, retry_deadline=0) as writer:
        writer.write_batch(contributions=[contribution], alert_changes=[alert],
                           entities=[EntityRecord(entity, building)])


def channels(by_leader: dict[str, list[tuple[str, object]]], group_wait: float = 30.0, timeout: float = 2.0,
             smtp: SmtpOptions | None = None) -> ChannelsConfig:
    """A ChannelsConfig from {leader: [(type, options), ...]} (options: the channel's Options model)."""
    return ChannelsConfig(
        {lid: tuple(ChannelSpec(lid, opts.id or kind, kind, opts) for kind, opts in specs)
         for lid, specs in by_leader.items()},
        group_wait, timeout, smtp, "test-channels.yaml",
    )


def snapshot(engine: sa.Engine) -> dict[str, list]:
    """Every row of the tables an alert action may touch, for 'nothing changed' checks."""
    out = {}
    with engine.connect() as conn:
        for table in ("alerts", "alert_history", "audit_log", "notifications", "api_tokens"):
            out[table] = [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))]
    return out
