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

# The llm extra's llama.cpp is compiled here. Its default, -march=native, uses every instruction
# the build machine advertises, AMX tiles included, which some virtual machines advertise but
# fault on (SIGSEGV at ldtilecfg); a portable build (AVX2, FMA, F16C) runs wherever this installs.
# The marker records the flags the installed build used; a build without it is replaced once.
if [[ " $* " == *" llm "* ]]; then
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  marker=.venv/llama-cpp-build-flags
  if [ "$(cat "$marker" 2>/dev/null)" != "$CMAKE_ARGS" ]; then
    spec=$(grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"')
    echo "setup.sh: compiling llama-cpp-python for any x86-64 CPU with AVX2 (a few minutes, once)"
    pip --no-binary llama-cpp-python --no-cache-dir --force-reinstall --no-deps "$spec"
    echo "$CMAKE_ARGS" > "$marker"
  fi
fi
pip -e "$target"
