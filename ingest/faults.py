"""Chroma failures as one-line StoreErrors that name the store and what to do.

Every call on a Chroma client or collection goes through `Guarded`, so a server that stops
mid-command, a timeout, a full or read-only disk becomes a `StoreError` instead of a
traceback from httpx, sqlite or Chroma's Rust core. Usage:
`collection = Guarded(client.get_or_create_collection("x"), where)`; `collection.count()`.
"""
from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from passage.errors import PassageError, StoreError, one_line
from passage.redact import redact

_NETWORK = {"ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException",
            "ReadError", "WriteError", "RemoteProtocolError", "NetworkError", "ConnectionError", "TimeoutError"}
_FULL_WORDS = ("no space left", "disk is full", "database or disk is full", "quota exceeded")
_READ_ONLY_WORDS = ("readonly", "read-only", "read only", "permission denied")
LOW_SPACE = 2 * 1024 * 1024  # below this much free space a failed write is put down to a full disk


@dataclass(frozen=True)
class Where:
    """The store a message names: a server URL (credentials masked) or the embedded index's folder."""

    url: str | None = None
    folder: Path | None = None

    def __str__(self) -> str:
        return redact(self.url) if self.url else str(self.folder)


def store_error(exc: BaseException, where: Where) -> StoreError:
    """The one-line StoreError for `exc` raised by Chroma (or what is under it) while using `where`."""
    names = {c.__name__ for e in _chain(exc) for c in type(e).__mro__}
    text = " ".join(one_line(e).lower() for e in _chain(exc))
    codes = {getattr(e, "errno", None) for e in _chain(exc)}
    if where.url and names & _NETWORK:
        return StoreError(f"lost the Chroma server at {where}; check that it is running and reachable, "
                          "then run the command again")
    if errno.ENOSPC in codes or any(w in text for w in _FULL_WORDS) or _low_space(where.folder):
        free = _free_mb(where.folder)
        left = f" ({free:.1f} MB free)" if free is not None else ""
        return StoreError(f"the disk holding {where} is full{left}; free some space and run the command again")
    if errno.EROFS in codes or errno.EACCES in codes or any(w in text for w in _READ_ONLY_WORDS):
        return StoreError(f"the index at {where} is read-only; make it writable (or run as its owner) and try again")
    return StoreError(f"the Chroma store at {where} failed: {one_line(exc)}")


class Guarded:
    """A Chroma client or collection whose method calls raise StoreError instead of library errors;
    collections a guarded client returns are guarded too."""

    def __init__(self, target: Any, where: Where):
        self._target = target
        self._where = where

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                result = attr(*args, **kwargs)
            except PassageError:
                raise
            except Exception as exc:
                raise store_error(exc, self._where) from None
            return Guarded(result, self._where) if _is_collection(result) else result

        return call


def _is_collection(value: Any) -> bool:
    import chromadb

    return isinstance(value, chromadb.Collection)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and its causes and contexts: httpx and sqlite errors often hide under Chroma's own."""
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 8:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _free_mb(folder: Path | None) -> float | None:
    existing = next((p for p in ([folder, *folder.parents] if folder else []) if p.exists()), None)
    if existing is None:
        return None
    try:
        return shutil.disk_usage(existing).free / (1024 * 1024)
    except OSError:
        return None


def _low_space(folder: Path | None) -> bool:
    """Chroma reports a full disk as e.g. "Failed to apply logs to the metadata segment", so ask the disk."""
    free = _free_mb(folder)
    return free is not None and free * 1024 * 1024 < LOW_SPACE
