"""Every error the API returns is one line of JSON with a status that says whose fault it is.

The body is `{"error": "one line"}`; under /v1, the OpenAI-compatible routes, it is OpenAI's
`{"error": {"message": "one line", "type": ...}}`, the shape OpenAI clients read the message
from. Domain errors map by class (the nearest mapped class wins, so a LoadError is an
InputError); FastAPI's validation errors become 422 with their first problem; Starlette's
own (unknown route, wrong method, a wrong API key) keep their status. Anything else is a
bug: the client gets a generic 500 line and the traceback goes to the server's log only.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from passage.errors import ConfigError, EmptyIndexError, InputError, LLMError, NotFoundError, PassageError, StoreError

log = logging.getLogger(__name__)


class TooLarge(InputError):
    """An upload over the size limit."""


STATUS: dict[type[PassageError], int] = {
    TooLarge: 413,
    InputError: 400,
    NotFoundError: 404,
    EmptyIndexError: 409,
    ConfigError: 500,
    LLMError: 502,
    StoreError: 503,
}
INTERNAL = "internal error; the server log has the details"
MAX_LINE = 1000  # domain messages may list every document name; one_line's 200 would cut them
OPENAI_PREFIX = "/v1/"


class ErrorBody(BaseModel):
    """What an error response holds (under /v1: OpenAI's `{"error": {"message": ...}}`)."""

    error: str


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorBody(BaseModel):
    error: OpenAIError


_CODES = (400, 401, 403, 404, 409, 413, 422, 500, 503)
ERRORS = {code: {"model": ErrorBody} for code in _CODES}
OPENAI_ERRORS = {code: {"model": OpenAIErrorBody} for code in _CODES}


def line(message: object) -> str:
    """`message` on one line, a lone surrogate escaped so the response can be encoded: `line("a\\n  b") == "a b"`."""
    text = " ".join(str(message).split())[:MAX_LINE].encode("utf-8", "backslashreplace").decode("utf-8")
    return text or "error"


def error_body(path: str, status: int, message: object) -> dict:
    """`error_body("/ask", 400, "bad") == {"error": "bad"}`; under /v1 the message sits in OpenAI's error object."""
    if not path.startswith(OPENAI_PREFIX):
        return {"error": line(message)}
    kind = "authentication_error" if status == 401 else "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": line(message), "type": kind, "param": None, "code": None}}


def error(path: str, status: int, message: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(path, status, message), status_code=status, headers=headers)


def status_of(exc: PassageError) -> int:
    """`status_of(LoadError("a.pdf", "empty")) == 400`: the status of the nearest mapped class."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers that turn every exception into one JSON line."""

    @app.exception_handler(PassageError)
    async def passage_error(request: Request, exc: PassageError) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, line(exc))
        return error(request.url.path, status, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(request.url.path, 422, validation_line(exc.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error(request.url.path, exc.status_code, exc.detail, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after this response is sent, and uvicorn logs the traceback.
        return error(request.url.path, 500, INTERNAL)


def validation_line(problems) -> str:
    """The first problem of a failed validation on one line, e.g. "question: Field required".

    The location drops FastAPI's "body"/"query" prefix; a JSON syntax error says where it is.
    """
    if not problems:
        return "invalid request"
    first = problems[0]
    if first.get("type") == "json_invalid":
        return f"the body is not valid JSON ({first.get('ctx', {}).get('error', 'decode error')})"
    where = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path", "header")]
    message = first.get("msg", "invalid value")
    return f"{'.'.join(where)}: {message}" if where else message
