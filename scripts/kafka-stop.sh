#!/usr/bin/env bash
# Stop the broker that kafka-start.sh started (by its pid file). A broker started elsewhere
# (another clone, docker-compose) is left alone.
# Env: KAFKA_STOP_TIMEOUT (seconds of controlled shutdown before SIGKILL, default 30).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"

PIDFILE="$VAR/kafka/kafka.pid"
TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}

pid=$(cat "$PIDFILE" 2>/dev/null || true)
# The cmdline check guards against a stale pid file whose number now belongs to another process.
if [ -z "$pid" ] || ! grep -qs 'kafka.Kafka' "/proc/$pid/cmdline"; then
    rm -f "$PIDFILE"
    say "no Kafka started by this tree is running"
    exit 0
fi

say "stopping Kafka (pid $pid)"
kill -TERM "$pid" 2>/dev/null || true
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS - start >= TIMEOUT )); then
        say "no clean shutdown after ${TIMEOUT}s: killing pid $pid"
        kill -KILL "$pid" 2>/dev/null || true
        break
    fi
    sleep 0.5
done
rm -f "$PIDFILE"
say "Kafka stopped"
