"""Who may use the API: the host names it answers to, no writes from other web sites, and the optional API key.

- **Host names** (`Guard`): while the server listens on loopback it answers only to
  localhost, 127.0.0.1 and ::1, so a page that rebinds its own DNS name to 127.0.0.1 ("DNS
  rebinding") gets 400 instead of the index; `PASSAGE_ALLOWED_HOSTS` names others (a reverse
  proxy's). Beyond loopback any name is answered unless that setting says otherwise.
- **Cross-site writes** (`Guard`): any web page the user opens can send a form or a `fetch`
  to 127.0.0.1 without a preflight. A request with a method other than GET, HEAD or OPTIONS is
  refused (403) when the browser says it comes from another origin: `Sec-Fetch-Site` other
  than `same-origin` or `none`, or, from browsers that do not send it, an `Origin` whose
  host is not the request's `Host`. Clients that are no browser (curl, SDKs) send neither
  and pass. (Go's `http.CrossOriginProtection` decides the same way.)
- **The API key** (`require_key`): with `PASSAGE_API_KEY` set, a request needs
  `Authorization: Bearer <key>`. The key is read from the settings only here, compared in
  constant time, and never logged or echoed; uvicorn's access log prints the request line,
  not its headers.
- **Writes beyond loopback** (`require_write_key`): a server listening beyond loopback
  without a key answers questions but refuses to add or remove documents (403), so exposing it
  by mistake never hands the index to the network.
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Sequence
from urllib.parse import urlsplit

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error

bearer = HTTPBearer(auto_error=False, description="PASSAGE_API_KEY, when the server has one.")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
    """Pass when the server has no key or the request brings it; else 401."""
    expected = request.app.state.settings.api_key.get_secret_value()
    if not expected:
        return
    given = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        reason = "wrong API key" if given else "this server needs an API key: send Authorization: Bearer <PASSAGE_API_KEY>"
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def require_write_key(request: Request) -> None:
    """Adding or removing documents: 403 on a server that listens beyond loopback without an API key."""
    if request.app.state.exposed and not request.app.state.settings.api_key.get_secret_value():
        raise HTTPException(403, "this server listens beyond loopback without an API key, so it does not add or remove "
                                 "documents; restart it with PASSAGE_API_KEY set")


def is_loopback(host: str) -> bool:
    """`is_loopback("127.0.0.1") is True`, `is_loopback("0.0.0.0") is False`; names other than localhost count as exposed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(configured: Sequence[str], bind_host: str) -> tuple[str, ...]:
    """The host names to answer: the configured ones, else loopback's names on loopback and any (`*`) beyond it."""
    if configured:
        return tuple(configured)
    return LOOPBACK_NAMES if is_loopback(bind_host) else ("*",)


def host_name(host_header: str) -> str:
    """The name in a Host header, without its port: `host_name("[::1]:8765") == "::1"`, `host_name("a.org:80") == "a.org"`."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def host_allowed(name: str, patterns: Sequence[str]) -> bool:
    """`host_allowed("api.example.org", ["*.example.org"]) is True`; `*` allows any name, an empty name none."""
    for pattern in patterns:
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:]) and name):
            return True
    return False


def cross_site(method: str, headers: Headers) -> str:
    """Who sends a write from another web site ("a web page from https://x.org"), else "": reads and non-browsers pass."""
    if method in SAFE_METHODS:
        return ""
    origin = headers.get("origin", "")
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return ""
        return f"a web page from {origin}" if origin else f"a web page on another origin (Sec-Fetch-Site: {fetch_site})"
    if not origin or urlsplit(origin).netloc.lower() == headers.get("host", "").lower():
        return ""
    return f"a web page from {origin}"


class Guard:
    """ASGI middleware: 400 for a Host name not in `hosts`, 403 for a write another web site sends."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]):
        self.app = app
        self.hosts = tuple(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        name = host_name(headers.get("host", ""))
        if not host_allowed(name, self.hosts):
            shown = ", ".join(self.hosts)
            message = (f"this server does not answer to the host name {name or '(none)'!r}, only to {shown}; "
                       "add a name with PASSAGE_ALLOWED_HOSTS")
            await error(scope["path"], 400, message)(scope, receive, send)
            return
        sender = cross_site(scope["method"], headers)
        if sender:
            message = (f"cross-site request refused: {sender} may not send {scope['method']} requests here; "
                       "call the API from a script, or from a page this server serves")
            await error(scope["path"], 403, message)(scope, receive, send)
            return
        await self.app(scope, receive, send)
