"""Resolution (docs/contract.md §5): an acknowledged alert resolves once its entity has fallen below
alert_level. The score is the database's own (pipeline.storage.views.entity_scores_at at `now`,
the same arithmetic Grafana reads), judged with the rules' levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from pipeline.alerting.records import AlertRecord, list_alerts
from pipeline.rules.loader import RuleSet
from pipeline.storage.views import entity_scores_at


@dataclass(frozen=True)
class Resolution:
    alert: AlertRecord
    score: float


def due_resolutions(conn: sa.Connection, ruleset: RuleSet, now: datetime) -> list[Resolution]:
    alerts = list_alerts(conn, statuses=("acknowledged",), limit=100_000)
    if not alerts:
        return []
    scores = entity_scores_at(conn, now)
    bar = ruleset.rank(ruleset.alert_level)
    out = []
    for alert in alerts:
        score = scores[alert.entity].score if alert.entity in scores else 0.0
        if ruleset.rank(ruleset.level_of(score)) < bar:
            out.append(Resolution(alert, score))
    return out


def current_score(conn: sa.Connection, entity: str, now: datetime) -> float:
    scores = entity_scores_at(conn, now)
    return scores[entity].score if entity in scores else 0.0
