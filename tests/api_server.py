"""Run `passage serve` for a test, on a free loopback port, and read Server-Sent Events."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator

from tests.servers import free_port, serve

# What the `passage` console script runs, spelled out so that this checkout's code is the one served.
PASSAGE = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]


@contextlib.contextmanager
def passage_serve(data_dir: Path, log_path: Path, env: dict[str, str] | None = None,
                  *args: str) -> Iterator[str]:
    """The API's base URL while `passage serve --data-dir data_dir` runs; its output goes to `log_path`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*PASSAGE, "serve", "--port", str(port), "--data-dir", str(data_dir), *args]
    with serve(command, f"{url}/health", log_path, seconds=240, cwd=log_path.parent, env={**os.environ, **(env or {})}):
        yield url


def sse_events(body: str) -> list[tuple[str, str]]:
    """(event name, data) pairs of an SSE body; several `data:` lines join with a line break."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name, data = "message", []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events
