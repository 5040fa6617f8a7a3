"""Server-Sent Events out of an answer stream.

The first item of a stream is taken before the response starts (`started`), so a bad
question, an unknown document or an unreachable store still gets its own status and one
line. A failure after that cannot change the status any more: the stream ends with an error
event holding the same `{"error": "one line"}` object instead.
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Iterable, Iterator, TypeVar

from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event

from passage.errors import PassageError

from .errors import INTERNAL, error_body, line, status_of

log = logging.getLogger(__name__)
T = TypeVar("T")


def started(items: Iterator[T]) -> Iterator[T]:
    """`items` after its first item was produced, so that errors before the first item raise here."""
    first = next(items)
    return itertools.chain([first], items)


def event(data: str, name: str | None = None) -> bytes:
    """One SSE event; a multi-line `data` becomes several `data:` lines, as the format requires.

    `event("a\\nb", "x") == b"event: x\\ndata: a\\ndata: b\\n\\n"`
    """
    return format_sse_event(data_str=data, event=name)


def sse_response(events: Iterable[bytes], path: str, error_event: str | None = "error") -> StreamingResponse:
    """Stream `events`; a failure while streaming becomes a last event named `error_event` holding
    the error body a response to `path` would have had."""

    def guarded() -> Iterator[bytes]:
        try:
            yield from events
        except PassageError as exc:
            log.warning("stream ended early: %s", line(exc))
            yield event(json.dumps(error_body(path, status_of(exc), exc)), error_event)
        except Exception:
            log.exception("stream failed")
            yield event(json.dumps(error_body(path, 500, INTERNAL)), error_event)

    return StreamingResponse(guarded(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
