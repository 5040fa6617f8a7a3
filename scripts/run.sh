#!/usr/bin/env bash
# Set up passage and open the web chat on the bundled corpus (ingested on first start).
# Offline: the embedding model and the reader's weights ship with the package. Extra arguments go
# to `passage ui`. The LLM answerer's local backend is an extra: scripts/setup.sh llm.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/passage ui "$@"
