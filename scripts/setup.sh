#!/usr/bin/env bash
# Create .venv and install passage into it: CPU torch first (a bare `torch` would pull a
# multi-GB CUDA build), then the package with the extras named as arguments. Each step says
# what it does and what it fetches; a step already done (same torch, same pyproject.toml and
# extras, same llama.cpp build flags) is skipped, so a second run is quiet and quick.
# Usage: scripts/setup.sh [EXTRA ...]     e.g. scripts/setup.sh test llm
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
started=$SECONDS
say() { echo "setup.sh [$((SECONDS - started))s]: $*" >&2; }
# pip's notes about this machine's extra package folders and setuptools' editable-install banner
# are noise; what it collects and installs is shown, one short line each
pip() {
  set +o pipefail
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 \
    | { grep -E --line-buffered "^(Collecting|Installing collected|Successfully installed|ERROR|error)" || true; } \
    | sed -u -E 's/^Collecting ([^ ]+).*/  fetching \1/; s/^Installing collected packages: (.{0,70}).*/  installing \1.../; s/^Successfully installed (.{0,70}).*/  installed \1.../' >&2
  local status=${PIPESTATUS[0]}
  set -o pipefail
  return "$status"
}
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
  pip --upgrade pip
fi
if ! .venv/bin/python -c "import torch, sys; sys.exit(not torch.__version__.startswith('2.13.0'))" 2>/dev/null; then
  say "installing CPU torch 2.13.0 (about a minute)"
  pip torch==2.13.0
fi
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
    say "compiling llama-cpp-python for any x86-64 CPU with AVX2 (a few minutes, once)"
    pip --no-binary llama-cpp-python --no-cache-dir --force-reinstall --no-deps "$spec"
    echo "$CMAKE_ARGS" > "$marker"
  fi
fi
stamp=.venv/passage-setup-stamp
want="$(sha256sum pyproject.toml | cut -c1-16) $target"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing passage and its dependencies ($target; a few minutes the first time)"
  pip -e "$target"
  echo "$want" > "$stamp"
  say "done"
fi
