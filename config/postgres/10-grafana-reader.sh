#!/bin/sh
# Run once by the postgres image when it creates its database (docker-entrypoint-initdb.d), before
# `riskwatch db upgrade`: Grafana's read-only role. Migration 0007 grants it SELECT on the tables the
# dashboards read; nothing else.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v pw="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE riskwatch_grafana LOGIN PASSWORD :'pw';
SQL
