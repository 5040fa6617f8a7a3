"""At most a few answers at once; a bounded queue for the rest; 503 with Retry-After beyond it.

Answering is CPU work (embedding, the reader's sentence scores): on two cores, eight answers
at once each take several times as long as one, and every client waits for the slowest. So
`AnswerQueue` lets `slots` answering requests run, up to `queue` more wait (each at most
`wait_s`), and any other gets 503 at once with `Retry-After`, the seconds the queue ahead of
it is expected to take. A request takes its place only once its body has arrived, so a client
that sends slowly holds no place; it keeps it until its response, streamed or not, is sent.
Simplified: one event loop (uvicorn's), so plain counters need no lock.
"""
from __future__ import annotations

import asyncio
import math
import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error

_SMOOTHING = 0.2  # weight of the newest answer's time in the running mean


class AnswerQueue:
    """ASGI middleware over the POST routes in `paths`: `AnswerQueue(app, {"/ask"}, slots=2, queue=16, wait_s=30)`."""

    def __init__(self, app: ASGIApp, paths: set[str], slots: int, queue: int, wait_s: float):
        self.app = app
        self.paths = frozenset(paths)
        self.slots = slots
        self.queue = queue
        self.wait_s = wait_s
        self._free: asyncio.Semaphore | None = None  # made in the server's event loop
        self._waiting = 0
        self._mean_s = 1.0  # seconds an answer takes, a running mean; a guess until the first one

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        try:
            messages = await _whole_body(receive)
        except HTTPException as exc:  # a body over its limit (limits.BodyLimit counts it as it arrives)
            await error(scope["path"], exc.status_code, exc.detail)(scope, receive, send)
            return
        if messages is None:  # the client went away
            return
        if self._free is None:
            self._free = asyncio.Semaphore(self.slots)
        if not await self._enter():
            await self._busy(scope, receive, send)
            return
        began = time.monotonic()
        try:
            await self.app(scope, _replay(messages, receive), send)
        finally:
            self._free.release()
            self._mean_s += _SMOOTHING * (time.monotonic() - began - self._mean_s)

    async def _enter(self) -> bool:
        """Take a place, waiting in the queue when there is room in it; False when there is none in time."""
        if not self._free.locked():
            await self._free.acquire()
            return True
        if self._waiting >= self.queue:
            return False
        self._waiting += 1
        try:
            await asyncio.wait_for(self._free.acquire(), self.wait_s)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiting -= 1

    async def _busy(self, scope: Scope, receive: Receive, send: Send) -> None:
        retry = max(1, math.ceil(self._mean_s * (self._waiting + self.slots) / self.slots))
        message = (f"the server is busy: {self.slots} answers at once and {self.queue} waiting at most; "
                   f"try again in {retry} s")
        await error(scope["path"], 503, message, {"Retry-After": str(retry)})(scope, receive, send)


async def _whole_body(receive: Receive) -> list[Message] | None:
    """The request's messages up to its last body part (its size is bounded by `limits.BodyLimit`)."""
    messages = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        messages.append(message)
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive that gives `messages` again, then waits on the connection (for a disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
