"""Privacy and access safeguards: persons registry (encrypted), API tokens (hashed), append-only audit log.

- person_registry: one row per pseudonymous person id; `ciphertext` is a Fernet token of the person's
  details (name, phone, ...) under the key `key_id` names (pipeline/persons/registry.py). Nothing in
  it is readable without the key from the environment.
- api_tokens: bearer tokens stored as sha256 hex only, with actor, role and optional leader id
  (pipeline/auth.py).
- audit_log becomes append-only: UPDATE and DELETE are refused by triggers (PostgreSQL: also
  TRUNCATE), and an index on `at` serves `riskwatch audit list --since`.

Revision ID: 0003_privacy
Revises: 0002_scores
Create Date: 2024-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_privacy"
down_revision = "0002_scores"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ROLES = "('viewer', 'leader', 'analyst', 'admin')"

PG_APPEND_ONLY = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$fn$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
]


def upgrade() -> None:
    op.create_table(
        "person_registry",
        sa.Column("person_id", sa.String(160), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("leader_id", sa.String(64)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
        sa.CheckConstraint(f"role IN {ROLES}", name="ck_api_tokens_role"),
    )
    op.create_index("ix_api_tokens_actor", "api_tokens", ["actor"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_api_tokens_actor", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("person_registry")
