"""The optional API key: with `PASSAGE_API_KEY` set, a request needs `Authorization: Bearer <key>`.

The key is read from the settings only here, compared in constant time, and never logged or
echoed; uvicorn's access log prints the request line, not its headers.
"""
from __future__ import annotations

import hmac

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

bearer = HTTPBearer(auto_error=False, description="PASSAGE_API_KEY, when the server has one.")


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
    """Pass when the server has no key or the request brings it; else 401."""
    expected = request.app.state.settings.api_key.get_secret_value()
    if not expected:
        return
    given = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        reason = "wrong API key" if given else "this server needs an API key: send Authorization: Bearer <PASSAGE_API_KEY>"
        raise HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})
