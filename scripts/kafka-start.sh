#!/usr/bin/env bash
# Start a single-node Kafka 4.x (KRaft, broker+controller) on 127.0.0.1:9092 for development and CI.
# Idempotent: a broker already answering on 9092 (this tree's or another clone's) is reused.
#   var/kafka/libs/     jars resolved by Maven from config/kafka/pom.xml (once, re-done when the pom changes)
#   var/kafka/data/     the log dir, formatted on first start
#   var/kafka/logs/     server.log (log4j) and kafka.out (the JVM's stdout/stderr)
#   var/kafka/kafka.pid the broker's pid, used by kafka-stop.sh
# Env: KAFKA_START_TIMEOUT (seconds, default 90), KAFKA_HEAP_OPTS (default -Xms256m -Xmx512m).
set -euo pipefail
source "$(dirname "$0")/_lib.sh"
lock_or_wait kafka

HOST=127.0.0.1
PORT=9092
BOOTSTRAP="$HOST:$PORT"
KDIR="$VAR/kafka"
LIBS="$KDIR/libs"
DATA="$KDIR/data"
LOGS="$KDIR/logs"
PIDFILE="$KDIR/kafka.pid"
PROPS="$KDIR/server.properties"
POM="$ROOT/config/kafka/pom.xml"
TIMEOUT=${KAFKA_START_TIMEOUT:-90}

# A metadata round trip through kafka-python, not just an open port: the socket opens well before
# the broker has joined its own quorum and can serve requests.
broker_answers() {
    local py
    if py=$(project_python) && (cd "$ROOT" && "$py" -c 'import kafka' 2>/dev/null); then
        (cd "$ROOT" && "$py" -m streams.kafka_io ping "$BOOTSTRAP" --timeout "${1:-5}" >/dev/null 2>&1)
    else
        # No venv yet (script run before `make install`): the broker logs this line once it serves.
        port_open "$HOST" "$PORT" && grep -qs 'Kafka Server started' "$LOGS/server.log"
    fi
}

our_broker_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && grep -qs 'kafka.Kafka' "/proc/$pid/cmdline" && echo "$pid"
}

show_logs() {
    echo "---- tail of $LOGS/server.log ----" >&2
    tail -n 40 "$LOGS/server.log" 2>/dev/null >&2 || echo "(no server.log)" >&2
    echo "---- tail of $LOGS/kafka.out ----" >&2
    tail -n 20 "$LOGS/kafka.out" 2>/dev/null >&2 || echo "(no kafka.out)" >&2
}

if port_open "$HOST" "$PORT"; then
    if broker_answers 10; then
        say "Kafka already running at $BOOTSTRAP"
        exit 0
    fi
    # Our own broker may still be starting (e.g. two make runs at once); anything else is a conflict.
    our_broker_pid >/dev/null || die "port $PORT is taken by something that does not answer as a Kafka broker"
fi

need_java17
mkdir -p "$KDIR"

# Resolving the jars is the slow part of a first start (Maven downloads ~45 jars); the pom's hash
# decides whether the cached copy is still right.
pom_hash=$(sha256sum "$POM" | cut -d' ' -f1)
if [ "$(cat "$LIBS/.pom.sha256" 2>/dev/null)" != "$pom_hash" ]; then
    need mvn maven "mvn not found: install Maven (apt-get install maven) or use docker-compose"
    say "resolving Kafka jars with Maven (first start only)..."
    rm -rf "$LIBS.tmp"
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >"$KDIR/mvn.log" 2>&1; then
        tail -n 30 "$KDIR/mvn.log" >&2
        die "Maven could not resolve the Kafka jars (full log: $KDIR/mvn.log)"
    fi
    rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
    echo "$pom_hash" >"$LIBS/.pom.sha256"
    rm -f "$KDIR/mvn.log"
fi
CP="$LIBS/*"

mkdir -p "$DATA" "$LOGS"
sed "s#^log.dirs=.*#log.dirs=$DATA#" "$ROOT/config/kafka/server.properties" >"$PROPS"

if [ ! -f "$DATA/meta.properties" ]; then
    # The cluster id is kept so a wiped data dir can be formatted again as the same cluster.
    [ -s "$KDIR/cluster-id" ] || java -cp "$CP" kafka.tools.StorageTool random-uuid >"$KDIR/cluster-id"
    say "formatting storage (cluster id $(cat "$KDIR/cluster-id"))"
    java -cp "$CP" kafka.tools.StorageTool format --standalone \
        --config "$PROPS" --cluster-id "$(cat "$KDIR/cluster-id")" >"$LOGS/format.log" 2>&1 \
        || { cat "$LOGS/format.log" >&2; die "kafka-storage format failed"; }
fi

if ! pid=$(our_broker_pid); then
    rm -f "$PIDFILE"
    say "starting Kafka at $BOOTSTRAP (logs: $LOGS)"
    # setsid: the broker must outlive this script and not get the terminal's Ctrl-C meant for make;
    # 9>&-: it must not inherit (and hold forever) the start lock.
    # shellcheck disable=SC2086
    setsid java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
        -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        -Dkafka.logs.dir="$LOGS" -Dlog4j2.configurationFile="$ROOT/config/kafka/log4j2.properties" \
        -cp "$CP" kafka.Kafka "$PROPS" >"$LOGS/kafka.out" 2>&1 </dev/null 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
fi

start=$SECONDS
until broker_answers 5; do
    if ! kill -0 "$pid" 2>/dev/null; then
        show_logs
        rm -f "$PIDFILE"
        die "Kafka exited during start-up (see logs above)"
    fi
    if (( SECONDS - start >= TIMEOUT )); then
        show_logs
        die "Kafka did not answer at $BOOTSTRAP within ${TIMEOUT}s (pid $pid left running; scripts/kafka-stop.sh stops it)"
    fi
    sleep 1
done
say "Kafka ready at $BOOTSTRAP (pid $pid, $((SECONDS - start))s)"
