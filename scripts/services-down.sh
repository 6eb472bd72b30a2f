#!/usr/bin/env bash
# Stop what services-up.sh started. Both stops run even when the first one fails.
set -uo pipefail
here=$(dirname "$0")
rc=0
"$here/kafka-stop.sh" || rc=$?
"$here/pg-stop.sh" || rc=$?
exit $rc
