"""Run the `passage` command in a real process, optionally pausing at one store call, so a test
can kill the process (or the Chroma server) at an exact step of a command.

`python -m tests.cli_driver ARGS...` is `passage ARGS...` (the same `app.cli.main`). With
`PAUSE_AT="put_record:1"` the process stops right after its first `ChromaStore.put_record`
returns, creates `PAUSE_DIR/paused` and waits until `PAUSE_DIR/go` exists. `"delete:1:half"`
deletes the first half of the ids of the first `delete`, then pauses before the rest.
`"lock:ingest"` pauses just before the process tries to take the write lock for an ingest, so
two processes can be released at once and race for it.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "tests.cli_driver"]


def env(**extra: str) -> dict[str, str]:
    """The environment for a driver process: this checkout first on the path, plus `extra`."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def run(*args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([*COMMAND, *args], capture_output=True, text=True, timeout=timeout, env=env(**extra))


def start(*args: str, pause_at: str = "", pause_dir: Path | None = None, **popen) -> subprocess.Popen:
    extra = {"PAUSE_AT": pause_at, "PAUSE_DIR": str(pause_dir)} if pause_at else {}
    return subprocess.Popen([*COMMAND, *args], text=True, env=env(**extra), **popen)


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 300) -> None:
    """Until `path` exists; fail if the process ends first or time runs out."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended ({proc.returncode}) before {path.name}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {path.name} within {seconds:.0f}s")
        time.sleep(0.05)


def _pause(folder: Path) -> None:
    (folder / "paused").write_text(str(os.getpid()))
    while not (folder / "go").exists():
        time.sleep(0.05)


def _install_before_lock(action: str, folder: Path) -> None:
    from ingest.lock import FileLock

    original = FileLock.acquire

    @functools.wraps(original)
    def paused(self, act, *args, **kwargs):
        if act == action:
            _pause(folder)
        return original(self, act, *args, **kwargs)

    FileLock.acquire = paused


def _install(spec: str, folder: Path) -> None:
    from ingest.store import ChromaStore

    if spec.startswith("lock:"):
        return _install_before_lock(spec.removeprefix("lock:"), folder)
    method, nth, *how = spec.split(":")
    original = getattr(ChromaStore, method)
    calls = {"n": 0}

    @functools.wraps(original)
    def paused(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] != int(nth):
            return original(self, *args, **kwargs)
        if how == ["half"]:
            ids = list(args[0])
            original(self, ids[: len(ids) // 2])
            _pause(folder)
            return original(self, ids[len(ids) // 2 :])
        result = original(self, *args, **kwargs)
        _pause(folder)
        return result

    setattr(ChromaStore, method, paused)


if __name__ == "__main__":
    if os.environ.get("PAUSE_AT"):
        _install(os.environ["PAUSE_AT"], Path(os.environ["PAUSE_DIR"]))
    sys.argv[0] = "passage"
    from app.cli import main

    main()
