#!/usr/bin/env bash
# Create .venv with the first Python >= 3.11 found. Debian ships `venv` (ensurepip) in a separate
# package, python3-venv: install it when it is missing, since a fresh machine must need nothing else.
set -euo pipefail
venv=${1:-.venv}
py=""
for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
        "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        py=$cand
        break
    fi
done
if [ -z "$py" ]; then
    echo "vialguard needs Python 3.11 or newer; none found on PATH" >&2
    exit 1
fi
if ! "$py" -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
    echo "python venv support is missing; installing python${ver}-venv with apt-get" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -q
    $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "python${ver}-venv" ||
        $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    "$py" -m venv "$venv"
fi
