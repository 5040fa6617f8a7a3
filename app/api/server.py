"""The FastAPI application and `passage serve`.

`create_app(settings)` builds the assistant and the library once, in the app's lifespan (or
takes them prebuilt: `serve` builds them before the port opens, so a bad setting or an
unreachable store is one line on the terminal and /health answers only when the model is
loaded). `serve` takes its port before it loads anything, so a busy port is one line at once.
Every request passes `security.Guard` (host names, cross-site writes); every route but /health
and the API docs takes the optional API key, and adding or removing documents needs it beyond loopback.
Usage: `uvicorn.run(create_app(Settings()), port=8765)`, or `passage serve`.
"""
from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from importlib.metadata import version

from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from app.wiring import Services, build_services
from passage.errors import ConfigError
from passage.settings import Settings

from . import conversations, docs, errors, openai_compat, routes
from .limits import BodyLimit
from .queue import AnswerQueue
from .security import Guard, allowed_hosts, is_loopback, require_key

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # JSON requests: questions, histories, chat messages
DESCRIPTION = """Cited answers from the indexed documents. `POST /ask` returns the object `passage ask --json`
prints; `/v1/chat/completions` speaks OpenAI's chat format. With PASSAGE_API_KEY set, send
`Authorization: Bearer <key>`. Every error is one line of JSON: `{"error": "..."}`, or under /v1
OpenAI's `{"error": {"message": "...", "type": "..."}}`."""


def create_app(settings: Settings, services: Services | None = None, host: str = "127.0.0.1") -> FastAPI:
    """The API over `services` (default: built from `settings` when the app starts), listening on `host`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.services = services or await run_in_threadpool(build_services, settings)
        yield

    app = FastAPI(title="passage", version=version("passage"), description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # docs.install serves them from installed files
    app.add_middleware(AnswerQueue, paths={"/ask", "/v1/chat/completions"}, slots=settings.serve_answers,
                       queue=settings.serve_queue, wait_s=settings.serve_queue_wait_s)
    app.add_middleware(BodyLimit, default=MAX_BODY_BYTES, limits={("POST", "/documents"): routes.upload_limit(settings)})
    app.add_middleware(Guard, hosts=allowed_hosts(settings.allowed_hosts, host))  # added last: runs first
    app.state.settings = settings
    app.state.exposed = not is_loopback(host)
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
    """Take the port, build the services, then serve the API until interrupted; domain errors propagate before it answers."""
    import uvicorn

    listener = listen(host, port)
    services = build_services(settings)
    if not services.library.records():
        log.warning("the index is empty: add documents with POST /documents or `passage ingest corpus/`")
    if not settings.api_key.get_secret_value() and not is_loopback(host):
        log.warning("listening on %s without an API key: anyone who can reach it can ask, but adding and removing "
                    "documents is refused; set PASSAGE_API_KEY to allow them", host)
    config = uvicorn.Config(create_app(settings, services, host), host=host, port=port, log_level="info",
                            server_header=False)
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("uvicorn.error").info("passage API on http://%s:%d, docs at /docs (Ctrl+C stops it)", shown, port)
    uvicorn.Server(config).run(sockets=[listener])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (uvicorn starts listening on it); ConfigError in one line when it cannot be had."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait out TIME_WAIT
        try:
            sock.bind(address)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        hint = "; stop what uses it or choose another --port" if exc.errno == errno.EADDRINUSE else ""
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    sock.set_inheritable(True)
    return sock
