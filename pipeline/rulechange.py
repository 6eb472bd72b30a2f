"""Rules change control (`riskwatch rules apply`): what a new rules file changes, and what it would
have changed over the last days of stored events (the "what if" the risk meeting asks for).

- `rules_diff(old_yaml, new_yaml)`: rules added, removed and changed (key by key), and changed defaults.
- `what_if(events, old_cfg, new_cfg, until)`: the same events replayed under both rule sets; every
  entity whose level at the end differs, with both scores. Events come from the database in
  (occurred_at, event_id) order; both replays start from nothing, so the comparison is like for like.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
import sqlalchemy as sa

from pipeline.configset import ConfigSet
from pipeline.replay import entity_rows, replay
from pipeline.storage.models import Event

EVENTS = Event.__table__


@dataclass
class RulesDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, dict[str, tuple]] = field(default_factory=dict)     # rule id -> key -> (old, new)
    defaults: dict[str, tuple] = field(default_factory=dict)               # key -> (old, new)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.defaults)

    def as_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed,
                "changed": {rid: {k: [o, n] for k, (o, n) in keys.items()} for rid, keys in self.changed.items()},
                "defaults": {k: [o, n] for k, (o, n) in self.defaults.items()}}


def rules_diff(old: dict, new: dict) -> RulesDiff:
    """Differences between two parsed rules files (the YAML mappings)."""
    diff = RulesDiff()
    old_rules = {str(r.get("id")): r for r in old.get("rules") or [] if isinstance(r, dict)}
    new_rules = {str(r.get("id")): r for r in new.get("rules") or [] if isinstance(r, dict)}
    diff.added = [rid for rid in new_rules if rid not in old_rules]
    diff.removed = [rid for rid in old_rules if rid not in new_rules]
    for rid in new_rules:
        if rid in old_rules:
            a, b = old_rules[rid], new_rules[rid]
            keys = {k: (a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)}
            if keys:
                diff.changed[rid] = keys
    od, nd = old.get("defaults") or {}, new.get("defaults") or {}
    diff.defaults = {k: (od.get(k), nd.get(k)) for k in list(od) + [k for k in nd if k not in od]
                     if od.get(k) != nd.get(k)}
    return diff


@dataclass(frozen=True)
class LevelChange:
    entity: str
    old_level: str
    old_score: float
    new_level: str
    new_score: float


@dataclass
class WhatIf:
    start: datetime
    until: datetime
    events: int
    changes: list[LevelChange]
    alerts_old: int
    alerts_new: int

    def as_dict(self, limit: int = 50) -> dict:
        return {"from": self.start.isoformat(), "until": self.until.isoformat(), "events": self.events,
                "entities_changed": len(self.changes), "alerts": [self.alerts_old, self.alerts_new],
                "changes": [[c.entity, c.old_level, c.new_level] for c in self.changes[:limit]]}


def latest_event_time(bind: sa.Engine) -> datetime | None:
    with bind.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(EVENTS.c.occurred_at))).scalar_one()
    if value is None:
        return None
    from pipeline.exports.sqlhelp import aware_utc

    return aware_utc(value)


def stored_lines(bind: sa.Engine, start: datetime, until: datetime, batch: int = 20_000) -> Iterator[bytes]:
    """The stored events in [start, until] as JSON lines, in (occurred_at, event_id) order."""
    from pipeline.exports.sqlhelp import utc_param

    query = (sa.select(EVENTS.c.doc).where(EVENTS.c.occurred_at >= utc_param(start),
                                           EVENTS.c.occurred_at <= utc_param(until))
             .order_by(EVENTS.c.occurred_at, EVENTS.c.event_id))
    with bind.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
        for (doc,) in result:
            yield orjson.dumps(doc)


def what_if(lines: Iterable[bytes], old_cfg: ConfigSet, new_cfg: ConfigSet, start: datetime,
            until: datetime) -> WhatIf:
    """Replay `lines` under both rule sets up to `until`; entities whose final level differs."""
    lines = list(lines)
    end = until.timestamp()
    results = [replay(lines, cfg, until=end) for cfg in (old_cfg, new_cfg)]
    rows = [{r["entity"]: r for r in entity_rows(res, cfg)} for res, cfg in zip(results, (old_cfg, new_cfg), strict=False)]
    changes = []
    for entity in sorted(set(rows[0]) | set(rows[1])):
        a, b = rows[0].get(entity), rows[1].get(entity)
        old = (a["level"], a["score"]) if a else ("low", 0.0)
        new = (b["level"], b["score"]) if b else ("low", 0.0)
        if old[0] != new[0]:
            changes.append(LevelChange(entity, old[0], old[1], new[0], new[1]))
    changes.sort(key=lambda c: (-abs(c.new_score - c.old_score), c.entity))
    raised = [sum(ch.change == "raised" for ch in res.alert_changes) for res in results]
    return WhatIf(start, until, results[0].accepted, changes, raised[0], raised[1])


def window(until: datetime, days: int) -> tuple[datetime, datetime]:
    return until - timedelta(days=days), until
