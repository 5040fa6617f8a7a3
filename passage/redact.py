"""Credentials embedded in URLs never reach a message or a log line.

A URL may carry a user and password (`http://user:secret@host/v1`) or a key in its query
(`http://host/v1?api_key=secret`); every message that can name a URL (LLM notices, store
errors, settings errors, log records) passes through `redact`, which keeps the user name and
the parameter's name, so the reader can still tell which account or setting was meant.

Users paste passwords unescaped, so the userinfo is not cut at the first "/" as a URL parser
would: it runs to the last "@" before the query. A password that holds "?" or "#" is caught
when what stands before it is no `host:port`. The price is that an "@" in a URL's path
(`http://host:8000/a@b`) is masked too: better a line that hides a host than one that shows
a password.
"""
from __future__ import annotations

import logging
import re

# scheme://userinfo@: the userinfo runs to the last "@" before the query or fragment, or whitespace
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s?#]*)@")
# scheme://user:pass?w#rd@host: "user:pass" is no host:port, so the "?" or "#" is the password's
_ODD_PASSWORD = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/?#:@\[\]]*:(?!\d*[/?#\s]|\d*$)[^\s@]*)@")
# ?api_key=..., &token=..., #access_token=...: the value of any parameter whose name says it is a secret
_SECRET_PARAM = re.compile(r"(?i)(?P<name>[?&#;][\w.-]*?(?:key|token|secret|passw(?:or)?d|pwd|auth|signature|sig|credentials?)=)"
                           r"[^&#\s]+")


def redact(text: str) -> str:
    """`text` with the password (or a lone token) of every URL in it, and every secret query value, replaced by `***`.

    `redact("cannot reach http://ann:pw@h:8080/v1") == "cannot reach http://ann:***@h:8080/v1"`;
    `redact("http://tok@h/") == "http://***@h/"`; `redact("http://a:p/w@h") == "http://a:***@h"`;
    `redact("http://h/v1?api_key=sk1&x=2") == "http://h/v1?api_key=***&x=2"`.
    """
    if "@" in text:
        text = _USERINFO.sub(_mask, text)
        text = _ODD_PASSWORD.sub(_mask, text)
    if "=" in text:
        text = _SECRET_PARAM.sub(lambda m: f"{m.group('name')}***", text)
    return text


def _mask(match: re.Match) -> str:
    user, colon, rest = match.group("userinfo").partition(":")
    if rest == "***":  # masked already
        return match.group(0)
    masked = f"{user}:***" if colon else "***"
    return f"{match.group('scheme')}{masked}@"


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's formatted message (installed by the entry points)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
