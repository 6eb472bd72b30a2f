#!/usr/bin/env bash
# Install Debian packages whose marker file is missing: scripts/apt-ensure.sh [--optional] FILE:PACKAGE ...
# Idempotent and quiet when everything is there. Used by `make install` for the CJK font that the
# exports and screenshots need (pipeline/fonts.py), for pdftotext, which the export tests use, and
# (--optional) for Debian's chromium, which the alert page's browser tests drive.
# --optional: without root (or passwordless sudo) say so and succeed; the tests that need the
# package skip on a developer's machine and fail under CI.
set -euo pipefail
optional=0
if [[ "${1:-}" == "--optional" ]]; then optional=1; shift; fi
missing=()
for spec in "$@"; do
    file=${spec%%:*}; pkg=${spec#*:}
    [[ -e "$file" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null || { [[ $optional == 1 ]] && ! sudo -n true 2>/dev/null; }; then
        echo "apt-ensure: need root to install: ${missing[*]}" >&2
        exit $(( optional ? 0 : 1 ))
    fi
    SUDO="sudo -n"
fi
echo "apt-ensure: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
