"""A GGUF model in a worker process, so that a native crash in llama.cpp never takes down the
process that serves questions.

The worker (`python .../rag/llm/worker.py CONFIG`, run as a script so that it starts without
importing LangChain) loads the model and answers one request at a
time over its stdin and stdout, one JSON object per line:

    -> {"id": 1, "messages": [...], "max_tokens": 256, "temperature": 0.0, "stop": [], "seed": 0}
    <- {"id": 1, "token": "Yeonmi"}  ...  {"id": 1, "done": true}   (or {"id": 1, "error": "..."})

`Worker` is the serving side: it starts the process on first use, reads the reply with a
deadline, and when the process dies (SIGSEGV, SIGKILL) or the deadline passes (the process is
then killed) it logs what happened, raises, and starts a fresh process for the next call.
Simplified on purpose: one request at a time (callers hold a lock), and a reply abandoned
half-way is drained rather than cancelled: its lines are skipped by id.
"""
from __future__ import annotations

import builtins
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
import weakref
from typing import Any, Iterator

from passage.errors import LLMError

log = logging.getLogger(__name__)


class Worker:
    """Usage: `for token in Worker({"model_path": "gemma.gguf"}).chat(request, deadline): ...`.

    `config` holds `Llama(...)`'s keyword arguments; `deadline` is a `time.monotonic()` value.
    """

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self._proc: subprocess.Popen | None = None
        self._buffer = b""
        self._ids = 0
        self._finalizer: weakref.finalize | None = None

    @property
    def pid(self) -> int | None:
        """The running worker's process id, or None before the first call and after a failure."""
        return self._proc.pid if self._proc is not None else None

    def chat(self, request: dict[str, Any], deadline: float) -> Iterator[str]:
        """The reply's text pieces; TimeoutError past `deadline`, LLMError when the worker died."""
        if self._proc is not None and self._proc.poll() is not None:
            self._forget(f"stopped between questions ({_how(self._proc.returncode)})")
        if self._proc is None:
            self._start(deadline)
        self._ids += 1
        self._send({**request, "id": self._ids})
        while True:
            message = self._receive(deadline)
            if message.get("id") != self._ids:
                continue  # the rest of a reply whose reader stopped early
            if "error" in message:
                raise _rebuilt(message["error"])
            if message.get("done"):
                return
            yield message["token"]

    def stop(self) -> None:
        """End the worker process, if one runs (it also ends when this process exits)."""
        if self._finalizer is not None:
            self._finalizer()
        self._proc, self._buffer = None, b""

    def _start(self, deadline: float) -> None:
        command = [sys.executable, __file__, json.dumps(self.config)]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self._buffer = b""
        self._finalizer = weakref.finalize(self, _end, self._proc)
        log.info("llama.cpp worker started (pid %d) for %s", self._proc.pid, self.config.get("model_path"))
        message = self._receive(deadline)
        if "error" in message:
            self._proc.wait(timeout=10)
            self._proc = None
            raise _rebuilt(message["error"])

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._proc.stdin.write(json.dumps(message).encode() + b"\n")
        except OSError:  # the worker is gone; its exit status says why
            self._died()

    def _receive(self, deadline: float) -> dict[str, Any]:
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out()
            if select.select([fd], [], [], remaining)[0]:
                data = os.read(fd, 1 << 16)
                if not data:
                    self._died()
                self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _died(self) -> None:
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # closed its output but still runs: not a worker to keep
            self._proc.kill()
            code = self._proc.wait()
        how = _how(code)
        self._forget(f"died with {how} during a reply")
        raise LLMError(f"the llama.cpp worker died with {how}")

    def _timed_out(self) -> None:
        self._proc.kill()
        self._proc.wait()
        self._forget("was stopped: no reply in time")
        raise TimeoutError("no reply in time")

    def _forget(self, what: str) -> None:
        log.warning("llama.cpp worker (pid %d) %s; a new one starts with the next question", self._proc.pid, what)
        self.stop()


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        pipe.close()


def _how(returncode: int) -> str:
    """`_how(-11) == "SIGSEGV"`, `_how(3) == "exit status 3"`."""
    if returncode < 0:
        try:
            return signal.Signals(-returncode).name
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _rebuilt(error: str) -> Exception:
    """The worker's "ValueError: message" as a ValueError, so callers classify it as if raised here."""
    name, _, message = error.partition(": ")
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls(message)
    return RuntimeError(error)


# --- the worker process ---------------------------------------------------------------------------

def main() -> None:
    """Load the model named by argv[1]'s config, then answer requests from stdin until it closes."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever llama.cpp prints goes to stderr, never into the replies

    def send(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")

    try:
        from llama_cpp import Llama

        llama = Llama(**json.loads(sys.argv[1]), verbose=False)
    except Exception as exc:
        send({"error": _line(exc)})
        return
    send({"ready": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            parts = llama.create_chat_completion(messages=request["messages"], max_tokens=request["max_tokens"],
                                                 temperature=request["temperature"], stop=request["stop"],
                                                 seed=request["seed"], stream=True)
            for part in parts:
                token = part["choices"][0]["delta"].get("content") or ""
                if token:
                    send({"id": request["id"], "token": token})
            send({"id": request["id"], "done": True})
        except Exception as exc:
            send({"id": request["id"], "error": _line(exc)})


def _line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


if __name__ == "__main__":
    del sys.path[0]  # this file's folder, which holds no top-level modules
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):  # the serving process went away
        pass
