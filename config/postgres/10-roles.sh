#!/bin/sh
# Run once by the postgres image when it creates its database (docker-entrypoint-initdb.d), as the image's
# superuser (POSTGRES_USER, `postgres`), before `riskwatch db upgrade`. The roles:
#   riskwatch_owner    owns the database and its schema; the one-shot `migrate` service runs as it
#   riskwatch_app      group role; migration 0011 grants it the tables (audit_log: INSERT and SELECT only)
#   riskwatch          the runtime role of worker, notifier and api: a member of riskwatch_app, owns nothing,
#                      so it can neither disable the audit log's triggers nor drop a table
#   riskwatch_grafana  Grafana's read-only role (migration 0007): no TEMP tables, no large objects
# A database owner cannot refuse large objects, so the superuser does it here, once.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner_pw="$OWNER_DB_PASSWORD" \
    -v app_pw="$RUNTIME_DB_PASSWORD" \
    -v grafana_pw="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE riskwatch_owner LOGIN PASSWORD :'owner_pw';
CREATE ROLE riskwatch_app NOLOGIN;
CREATE ROLE riskwatch LOGIN PASSWORD :'app_pw' IN ROLE riskwatch_app;
CREATE ROLE riskwatch_grafana LOGIN PASSWORD :'grafana_pw';
ALTER DATABASE :"db" OWNER TO riskwatch_owner;
REVOKE TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT TEMPORARY ON DATABASE :"db" TO riskwatch_app;
REVOKE EXECUTE ON FUNCTION lo_creat(integer), lo_create(oid), lo_from_bytea(oid, bytea), lo_import(text),
    lo_import(text, oid) FROM PUBLIC;
SQL
