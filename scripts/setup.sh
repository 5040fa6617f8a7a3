#!/usr/bin/env bash
# Create .venv and install passage into it: CPU torch first (a bare `torch` would pull a
# multi-GB CUDA build), then the package with the extras named as arguments.
# Usage: scripts/setup.sh [EXTRA ...]     e.g. scripts/setup.sh test llm
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# pip's notes about this machine's extra package folders and setuptools' editable-install banner are noise
pip() { .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" 2> >(grep -Ev "is ignored: it is neither|BuildBackendWarning|editable_wheel|Please be careful|name as your package|WheelFile|^\s*(!!|\*+)?\s*$" >&2); }
pip --upgrade pip
pip torch==2.13.0
extras=$(IFS=,; echo "$*")
target="."
[ -n "$extras" ] && target=".[$extras]"
pip -e "$target"
