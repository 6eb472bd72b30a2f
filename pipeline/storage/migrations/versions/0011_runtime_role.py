"""The runtime role: what every service holds may read and write the tables, but only append to audit_log.

Migrations run as the schema owner (`RISKWATCH_DB_OWNER_URL`, role `riskwatch_owner` in the scripts
and compose); the services connect as a role that is a member of the group role `riskwatch_app`
(`riskwatch` in the scripts and compose). Owning a table is what allows `ALTER TABLE … DISABLE
TRIGGER` and `DROP TABLE`, so the audit log's append-only triggers hold only against a role that
does not own it. This revision gives `riskwatch_app`:
- SELECT, INSERT, UPDATE, DELETE on every table and view, and on the ones later revisions create
  (default privileges of the owner running the migrations);
- on `audit_log` INSERT and SELECT only, on `alembic_version` SELECT only;
- TEMPORARY on the database (the PostgreSQL COPY staging tables), which PUBLIC, and with it the
  Grafana role, loses.
The roles are created by the database's administrator before `riskwatch db upgrade`
(scripts/pg-start.sh, config/postgres/10-roles.sh); without `riskwatch_app` this revision changes
nothing. Large objects cannot be refused by a database owner: the scripts revoke the large-object
functions as superuser. SQLite has no roles.

Revision ID: 0011_runtime_role
Revises: 0010_ingest
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0011_runtime_role"
down_revision = "0010_ingest"
branch_labels = None
depends_on = None

APP = "riskwatch_app"

GRANTS = f"""
EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO {APP}', current_database());
GRANT USAGE ON SCHEMA public TO {APP};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {APP};
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM {APP};
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP};
"""

REVOKES = f"""
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP};
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP};
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP};
EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
"""


def _if_app(statements: str) -> str:
    return f"""
DO $do$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP}') THEN
        {statements}
    END IF;
END
$do$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_if_app(GRANTS))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_if_app(REVOKES))
