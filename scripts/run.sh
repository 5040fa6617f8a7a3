#!/usr/bin/env bash
# Set up passage and open the web chat on the bundled corpus (ingested on first start).
# Offline: the embedding model ships in a Python package. Extra arguments go to `passage ui`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/passage ui "$@"
