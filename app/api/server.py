"""The FastAPI application and `passage serve`.

`create_app(settings)` builds the assistant and the library once, in the app's lifespan (or
takes them prebuilt: `serve` builds them before the port opens, so a bad setting or an
unreachable store is one line on the terminal and /health answers only when the model is
loaded). Every route but /health and the API docs takes the optional API key.
Usage: `uvicorn.run(create_app(Settings()), port=8765)`, or `passage serve`.
"""
from __future__ import annotations

import contextlib
import ipaddress
import logging
import threading
from importlib.metadata import version

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from app.wiring import Services, build_services
from passage.settings import Settings

from . import conversations, docs, errors, openai_compat, routes
from .limits import BodyLimit
from .queue import AnswerQueue
from .security import require_key

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # JSON requests: questions, histories, chat messages
DESCRIPTION = """Cited answers from the indexed documents. `POST /ask` returns the object `passage ask --json`
prints; `/v1/chat/completions` speaks OpenAI's chat format. With PASSAGE_API_KEY set, send
`Authorization: Bearer <key>`. Every error is one line of JSON: `{"error": "..."}`, or under /v1
OpenAI's `{"error": {"message": "...", "type": "..."}}`."""


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The API over `services` (default: built from `settings` when the app starts)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = services or await run_in_threadpool(build_services, settings)
        yield

    app = FastAPI(title="passage", version=version("passage"), description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # docs.install serves them from installed files
    app.add_middleware(AnswerQueue, paths={"/ask", "/v1/chat/completions"}, slots=settings.serve_answers,
                       queue=settings.serve_queue, wait_s=settings.serve_queue_wait_s)
    app.add_middleware(BodyLimit, default=MAX_BODY_BYTES, limits={("POST", "/documents"): routes.upload_limit(settings)})
    app.state.settings = settings
    app.state.write_lock = threading.Lock()  # one upload or removal at a time
    errors.install(app)
    docs.install(app)
    app.include_router(routes.health_router())
    guarded = [Depends(require_key)]
    app.include_router(routes.api_router(settings), dependencies=guarded)
    app.include_router(conversations.router(), dependencies=guarded)
    app.include_router(openai_compat.router(), dependencies=guarded)
    return app


def serve(settings: Settings, host: str, port: int) -> None:
    """Build the services, then serve the API until interrupted; domain errors propagate before the port opens."""
    import uvicorn

    services = build_services(settings)
    if not services.library.records():
        log.warning("the index is empty: add documents with POST /documents or `passage ingest corpus/`")
    if not settings.api_key.get_secret_value() and not _loopback(host):
        log.warning("listening on %s without an API key: anyone who can reach it can ask, add and remove documents; "
                    "set PASSAGE_API_KEY", host)
    uvicorn.run(create_app(settings, services), host=host, port=port, log_level="info", server_header=False)


def _loopback(host: str) -> bool:
    """`_loopback("127.0.0.1") is True`, `_loopback("0.0.0.0") is False`; names other than localhost count as exposed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
