"""A gate for a client that may be reopened while other threads use it.

`Gate` lets any number of calls through at once, or one reopening alone; `Gated` wraps an
object so each method call goes through the gate, on whatever object `current()` gives then.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator


class Gate:
    """Any number of calls at once, or one reopening alone: `with gate.call(): ...`, `with gate.alone(): ...`."""

    def __init__(self):
        self._cond = threading.Condition()
        self._calls = 0
        self._reopening = False

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._calls += 1
        try:
            yield
        finally:
            with self._cond:
                self._calls -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._reopening)
            self._reopening = True
            self._cond.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._cond:
                self._reopening = False
                self._cond.notify_all()


class Gated:
    """The collection `current()` returns, each call made through the gate, so none runs on a closed client."""

    def __init__(self, gate: Gate, current: Callable[[], Any]):
        self._gate = gate
        self._current = current

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def call(*args, **kwargs):
            with self._gate.call():
                return getattr(self._current(), name)(*args, **kwargs)

        return call
