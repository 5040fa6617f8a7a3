"""Credentials embedded in URLs never reach a message or a log line.

A URL may carry a user and password (`http://user:secret@host/v1`); every message that can
name a URL (LLM notices, store errors, settings errors, log records) passes through `redact`,
which keeps the user name, so the reader can still tell which account was meant.
"""
from __future__ import annotations

import logging
import re

# scheme://userinfo@host: the userinfo runs to the authority's last "@" (a password may hold an unescaped "@")
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^\s/?#]*)@")


def redact(text: str) -> str:
    """`text` with the password (or a lone token) of every URL in it replaced by `***`.

    `redact("cannot reach http://ann:pw@h:8080/v1") == "cannot reach http://ann:***@h:8080/v1"`;
    `redact("http://tok@h/") == "http://***@h/"`.
    """
    return _USERINFO.sub(_mask, text) if "@" in text else text


def _mask(match: re.Match) -> str:
    user, colon, _ = match.group("userinfo").partition(":")
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
