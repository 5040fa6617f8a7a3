"""Request bodies over their size limit get 413 and `{"error": ...}` before they are read whole.

A declared Content-Length over the limit is refused before any of the body is read; a body
sent without one (chunked) is counted as it arrives and refused once it passes the limit.
Uploads have their own, larger limit. (FastAPI's built-in limit answers in plain text.)
"""
from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error


class BodyLimit:
    """ASGI middleware: `limits` maps (method, path) to its most bytes; other requests get `default`."""

    def __init__(self, app: ASGIApp, default: int, limits: dict[tuple[str, str], int]):
        self.app = app
        self.default = default
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get((scope["method"], scope["path"]), self.default)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await error(scope["path"], 413, too_large(limit))(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, too_large(limit))  # FastAPI hands HTTPExceptions to the app's handlers
            return message

        await self.app(scope, counted, send)


def too_large(limit: int) -> str:
    """`too_large(1024) == "the request body is larger than the limit of 1024 bytes"`."""
    return f"the request body is larger than the limit of {limit} bytes"
