"""Cases, case actions and the meeting's decisions (docs/contract.md §8; pipeline/storage/case_tables.py).

The Grafana role reads `cases` whole, and `case_actions` and `decisions` without their free-text
columns (`text`, `done_note`), which may name people: PostgreSQL column privileges.

Revision ID: 0009_cases
Revises: 0008_web_sessions
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_cases"
down_revision = "0008_web_sessions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
READER = "riskwatch_grafana"
GRANTS = (
    "GRANT SELECT ON cases TO {r}; "
    "GRANT SELECT (id, ref, action, note_kind, owner, actor, at) ON case_actions TO {r}; "
    "GRANT SELECT (id, case_ref, owner, due, week, created_at, created_by, done_at, done_by) ON decisions TO {r};"
)
REVOKES = "REVOKE ALL ON cases, case_actions, decisions FROM {r};"


def _if_reader(statements: str) -> str:
    return f"""
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
        {statements.format(r=READER)}
    END IF;
END
$do$"""


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("building", sa.String(64), nullable=True),
        sa.Column("location_id", sa.String(128), nullable=True),
        sa.Column("entity", sa.String(200), nullable=True),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("due", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("last_action_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('hazard', 'dispute', 'alert', 'person')", name="ck_cases_kind"),
        sa.PrimaryKeyConstraint("ref"),
    )
    op.create_index("ix_cases_owner_open", "cases", ["owner", "is_open"])
    op.create_index("ix_cases_kind_open", "cases", ["kind", "is_open"])
    op.create_table(
        "case_actions",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note_kind", sa.String(16), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN ('note', 'reassign', 'close')", name="ck_case_actions_action"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_actions_ref_at", "case_actions", ["ref", "at"])
    op.create_index("ix_case_actions_at", "case_actions", ["at"])
    op.create_table(
        "decisions",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("case_ref", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("week", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("done_at", TS, nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decisions_due", "decisions", ["due"])
    op.create_index("ix_decisions_week", "decisions", ["week"])
    op.create_index("ix_decisions_case_ref", "decisions", ["case_ref"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_if_reader(GRANTS))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_if_reader(REVOKES))
    op.drop_table("decisions")
    op.drop_table("case_actions")
    op.drop_table("cases")
