# Shared helpers for the service scripts in this folder (sourced, not run).
# Everything a script creates lives under var/ (git-ignored), so a fresh clone starts clean.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR="$ROOT/var"
ME=$(basename "$0" .sh)

say() { echo "[$ME] $*"; }
die() { echo "[$ME] error: $*" >&2; exit 1; }

# True when something accepts TCP connections on host:port (bash's /dev/tcp, no nc needed).
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# CI and fresh machines of this kind run as root with Debian's apt reachable, and the rule is that
# the project installs what it needs itself; a developer's machine gets a hint instead of an install.
can_auto_install() {
    [ -n "${CI:-}" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

apt_install() {
    say "installing $* (CI, root)"
    if [ -z "${_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# need CMD DEBIAN_PACKAGE MESSAGE: make sure CMD exists, installing it in CI, else stop with MESSAGE.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if can_auto_install && apt_install "$2" && command -v "$1" >/dev/null 2>&1; then
        return 0
    fi
    die "$3"
}

# Java 17 is the minimum for a Kafka 4.x broker.
need_java17() {
    local hint="java 17 not found: install openjdk-17-jre-headless (apt-get install openjdk-17-jre-headless) or use docker-compose"
    need java openjdk-17-jre-headless "$hint"
    local v major
    v=$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
    major=${v%%.*}
    [ "$major" = 1 ] && major=$(echo "$v" | cut -d. -f2)
    if ! [ "${major:-0}" -ge 17 ] 2>/dev/null; then
        die "java $v is too old: Kafka 4.x needs java 17 or newer (apt-get install openjdk-17-jre-headless)"
    fi
}

# The project's Python (the venv made by `make install`), when it exists.
project_python() {
    local py="${PYTHON:-$ROOT/.venv/bin/python}"
    [ -x "$py" ] && echo "$py"
}

# Several engineers (and their `make test`s) share one tree and one machine: a second start of the
# same service waits for the first instead of racing it (two JVMs on one port, CREATE ROLE twice).
lock_or_wait() {
    mkdir -p "$VAR"
    exec 9>"$VAR/.$1.lock"
    flock -w "${2:-300}" 9 || die "another start of $1 holds $VAR/.$1.lock"
}
