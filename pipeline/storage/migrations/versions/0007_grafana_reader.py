"""Grafana's read-only role: SELECT on what the dashboards read, nothing else.

Grafana's PostgreSQL data source runs whatever SQL a dashboard editor types; with the application's
role it could read the encrypted persons registry, the audit log and API token hashes, and write.
The role `riskwatch_grafana` is created by the database's administrator before `riskwatch db
upgrade` (scripts/pg-start.sh, compose's postgres init script); this revision grants it SELECT on
the dashboards' tables and the score view (the score function runs with the caller's rights, so its
tables are among them). Without the role the revision changes nothing; run the GRANT of
README.md (Dashboards) by hand if the role is created later. SQLite has no roles.

Revision ID: 0007_grafana_reader
Revises: 0006_alert_links
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0007_grafana_reader"
down_revision = "0006_alert_links"
branch_labels = None
depends_on = None

READER = "riskwatch_grafana"
READABLE = ("events", "contributions", "entities", "levels", "alerts", "alert_history", "notifications",
            "entity_scores_current")


def _if_reader(statements: str) -> str:
    return f"""
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
        {statements}
    END IF;
END
$do$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_if_reader(f"GRANT USAGE ON SCHEMA public TO {READER}; "
                          f"GRANT SELECT ON {', '.join(READABLE)} TO {READER};"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_if_reader(f"REVOKE SELECT ON {', '.join(READABLE)} FROM {READER};"))
