"""Start a real server process for a test and stop it afterwards (Chroma, llama.cpp, Streamlit)."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(command: Sequence[str], health_url: str, log_path: Path, seconds: float = 120, **popen) -> Iterator[subprocess.Popen]:
    """Run `command` until `health_url` answers 200, yielding the process (a test may kill it);
    fail the test with the log's tail if it never answers."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            _wait(proc, health_url, log_path, seconds)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def chroma_command(folder: Path, port: int) -> list[str]:
    """`chroma run` on 127.0.0.1:`port`, its data in `folder`."""
    import sys

    chroma = Path(sys.executable).with_name("chroma")
    return [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]


def _wait(proc: subprocess.Popen, url: str, log_path: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer within {seconds:.0f}s:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.25)
