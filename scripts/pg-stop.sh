#!/usr/bin/env bash
# Stop the PostgreSQL cluster that pg-start.sh started; a cluster that was already running
# before (a system service, another clone's start) is left alone.
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

MARKER="$VAR/postgres/started"
if [ ! -f "$MARKER" ]; then
    say "PostgreSQL was not started by this tree's scripts: nothing to stop"
    exit 0
fi
read -r ver name <"$MARKER"
if pg_lsclusters -h 2>/dev/null | awk -v v="$ver" -v n="$name" '$1 == v && $2 == n && $4 == "online" { ok = 1 } END { exit !ok }'; then
    say "stopping PostgreSQL $ver/$name"
    if [ "$(id -u)" = 0 ]; then pg_ctlcluster "$ver" "$name" stop -m fast; else sudo pg_ctlcluster "$ver" "$name" stop -m fast; fi
else
    say "PostgreSQL $ver/$name is not running"
fi
rm -f "$MARKER"
