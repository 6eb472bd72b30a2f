#!/usr/bin/env bash
# Start every service the integration tests and the demo need: Kafka and PostgreSQL.
set -euo pipefail
here=$(dirname "$0")
"$here/pg-start.sh"
"$here/kafka-start.sh"
