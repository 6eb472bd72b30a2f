#!/usr/bin/env bash
# Start the machine's Debian PostgreSQL (15+) and make sure the roles and database `riskwatch` exist, so that
#   postgresql+psycopg://riskwatch:riskwatch@127.0.0.1:5432/riskwatch
# works with password (scram) auth over TCP, as the tests and dashboards expect. The roles (password = name,
# a local development credential only):
#   riskwatch_owner    owns the database and its schema; `riskwatch db upgrade` runs as it
#                      (RISKWATCH_DB_OWNER_URL=postgresql+psycopg://riskwatch_owner:riskwatch_owner@127.0.0.1:5432/riskwatch)
#   riskwatch          the runtime role every service uses; member of the group role riskwatch_app, to which
#                      migration 0011 grants the tables (audit_log: INSERT and SELECT only)
#   riskwatch_grafana  Grafana's read-only role (migration 0007); no TEMP tables, no large objects
# riskwatch and riskwatch_owner may create databases (the tests' scratch databases).
# Idempotent: when every role logs in and the database is locked down, nothing else is done. A database
# created by an older version of this script moves to riskwatch_owner while it is empty; one holding
# tables stays owned by `riskwatch`: docs/exports-and-privacy.md (Database roles) says how to move it.
# var/postgres/started records the cluster this script started, so pg-stop.sh stops only that one.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
lock_or_wait postgres

HOST=127.0.0.1
PORT=5432
DB=riskwatch         # database, role and password alike: a local development credential only
MARKER="$VAR/postgres/started"
TIMEOUT=${PG_START_TIMEOUT:-30}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# cd /: the postgres user usually cannot read the caller's working directory.
as_postgres() { (cd / && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi); }

logs_in() {   # role password
    PGPASSWORD=$2 PGCONNECT_TIMEOUT=3 psql -h "$HOST" -p "$PORT" -U "$1" -d "$DB" -Atqc 'select 1' >/dev/null 2>&1
}
riskwatch_logs_in() { logs_in "$DB" "$DB"; }
reader_logs_in() { logs_in riskwatch_grafana riskwatch_grafana; }
owner_logs_in() { logs_in riskwatch_owner riskwatch_owner; }
locked_down() {   # the runtime role is in riskwatch_app; Grafana's role can make neither large objects nor TEMP tables
    [ "$(PGPASSWORD=riskwatch_grafana PGCONNECT_TIMEOUT=3 psql -h "$HOST" -p "$PORT" -U riskwatch_grafana -d "$DB" -Atqc \
        "select pg_has_role('$DB', 'riskwatch_app', 'member')
                and not has_function_privilege('lo_from_bytea(oid, bytea)', 'execute')
                and not has_function_privilege('lo_create(oid)', 'execute')
                and not has_database_privilege(current_database(), 'temporary')
                and ((select pg_get_userbyid(datdba) from pg_database where datname = current_database()) <> '$DB'
                     or exists (select from pg_tables where schemaname = 'public'))" 2>/dev/null)" = t ]
}

hint="postgresql not installed: install it (apt-get install postgresql-15) or use docker-compose"
need pg_lsclusters postgresql "$hint"
need psql postgresql-client "$hint"

if command -v pg_isready >/dev/null && pg_isready -q -h "$HOST" -p "$PORT" && riskwatch_logs_in && reader_logs_in \
        && owner_logs_in && locked_down; then
    say "PostgreSQL already running at $HOST:$PORT, database $DB ready"
    exit 0
fi

# The cluster serving port 5432, else the first one; none at all (postgresql installed without
# its default cluster) gets one created with the newest installed server version.
read -r ver name status < <(pg_lsclusters -h | awk -v p="$PORT" '
    $3 == p { print $1, $2, $4; found = 1; exit }
    NR == 1 { first = $1 " " $2 " " $4 }
    END { if (!found && first) print first }') || true
if [ -z "${ver:-}" ]; then
    ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
    [ -n "$ver" ] || die "$hint"
    name=main
    say "creating PostgreSQL $ver cluster '$name' on port $PORT"
    as_root pg_createcluster "$ver" "$name" --port "$PORT" >/dev/null
    status=down
fi
[ "${ver%%.*}" -ge 15 ] 2>/dev/null || die "PostgreSQL $ver found; riskwatch needs 15 or newer (apt-get install postgresql-15)"
port=$(pg_lsclusters -h | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n { print $3 }')
[ "$port" = "$PORT" ] || die "PostgreSQL $ver/$name listens on port $port, not $PORT: change it in /etc/postgresql/$ver/$name/postgresql.conf"

if [ "$status" != online ]; then
    say "starting PostgreSQL $ver/$name"
    if ! as_root pg_ctlcluster "$ver" "$name" start 9>&-; then
        tail -n 20 "/var/log/postgresql/postgresql-$ver-$name.log" >&2 2>/dev/null || true
        die "pg_ctlcluster $ver $name start failed (log above)"
    fi
    mkdir -p "$(dirname "$MARKER")"
    echo "$ver $name" >"$MARKER"
fi

start=$SECONDS
until pg_isready -q -h "$HOST" -p "$PORT"; do
    (( SECONDS - start < TIMEOUT )) || die "PostgreSQL did not accept connections on $HOST:$PORT within ${TIMEOUT}s"
    sleep 0.5
done

# Roles first, then the database (owned by riskwatch_owner); \gexec runs the CREATE only when missing.
# Then, inside the database, what only a superuser may do: the large-object functions and TEMP are
# taken from PUBLIC (TEMP stays for riskwatch_app: the COPY staging tables).
as_postgres psql -p "$PORT" -X -q -v ON_ERROR_STOP=1 >/dev/null <<SQL
SET client_min_messages = warning;
DO \$\$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['riskwatch_owner', '$DB'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', r, r);
        ELSE
            EXECUTE format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', r, r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'riskwatch_app') THEN
        CREATE ROLE riskwatch_app NOLOGIN;
    END IF;
    -- Grafana's read-only role (migration 0007 grants it SELECT on the dashboards' tables)
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'riskwatch_grafana') THEN
        CREATE ROLE riskwatch_grafana LOGIN PASSWORD 'riskwatch_grafana';
    END IF;
END
\$\$;
GRANT riskwatch_app TO $DB;
SELECT 'CREATE DATABASE $DB OWNER riskwatch_owner' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB')\gexec
\\connect $DB
SET client_min_messages = warning;
-- A database an older version of this script made (owned by the runtime role) moves to the owner while
-- it is still empty; one with tables is left alone (docs/exports-and-privacy.md says how to move it).
DO \$\$
BEGIN
    IF pg_get_userbyid((SELECT datdba FROM pg_database WHERE datname = current_database())) = '$DB'
       AND NOT EXISTS (SELECT FROM pg_tables WHERE schemaname = 'public') THEN
        EXECUTE format('ALTER DATABASE %I OWNER TO riskwatch_owner', current_database());
    END IF;
END
\$\$;
REVOKE TEMPORARY ON DATABASE $DB FROM PUBLIC;
GRANT TEMPORARY ON DATABASE $DB TO riskwatch_app;
REVOKE EXECUTE ON FUNCTION lo_creat(integer), lo_create(oid), lo_from_bytea(oid, bytea), lo_import(text),
    lo_import(text, oid) FROM PUBLIC;
SQL

riskwatch_logs_in || die "role $DB cannot log in to database $DB over TCP at $HOST:$PORT (check /etc/postgresql/$ver/$name/pg_hba.conf)"
locked_down || die "database $DB is not locked down for riskwatch_grafana (TEMP or large objects still allowed)"
say "PostgreSQL $ver ready at $HOST:$PORT, database $DB"
