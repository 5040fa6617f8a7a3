#!/usr/bin/env bash
# Set up everything the tests need and run them: the venv with the test and LLM extras,
# Debian's chromium for the browser test, and a Chroma server on 127.0.0.1 for the
# server-mode store tests. Extra arguments go to pytest (e.g. scripts/test.sh -m "not llm").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test llm

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi

chroma_dir=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/chroma run --path "$chroma_dir" --host 127.0.0.1 --port "$port" >"$chroma_dir.log" 2>&1 &
chroma_pid=$!
trap 'kill $chroma_pid 2>/dev/null || true; rm -rf "$chroma_dir" "$chroma_dir.log"' EXIT
for _ in $(seq 1 60); do
  curl -fs "http://127.0.0.1:$port/api/v2/heartbeat" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/api/v2/heartbeat" >/dev/null || { echo "Chroma server did not start:"; cat "$chroma_dir.log"; exit 1; }

export PASSAGE_TEST_CHROMA_URL="http://127.0.0.1:$port"
.venv/bin/python -m pytest "$@"
