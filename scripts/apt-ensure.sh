#!/usr/bin/env bash
# Install Debian packages whose marker file is missing: scripts/apt-ensure.sh FILE:PACKAGE ...
# Idempotent and quiet when everything is there. Used by `make install` for the CJK font that the
# exports and screenshots need (pipeline/fonts.py) and for pdftotext, which the export tests use.
set -euo pipefail
missing=()
for spec in "$@"; do
    file=${spec%%:*}; pkg=${spec#*:}
    [[ -e "$file" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || { echo "apt-ensure: need root to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo -n"
fi
echo "apt-ensure: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
