"""Domain errors. Core code raises these; the CLI and the web page turn them into one line."""
from __future__ import annotations

from passage.home import ingest_hint
from passage.redact import redact


def one_line(exc: BaseException) -> str:
    """A library exception's message on one short line, URL credentials masked:
    `one_line(ValueError("a\\n b")) == "a b"`."""
    return redact(" ".join(str(exc).split()))[:200] or type(exc).__name__


class PassageError(Exception):
    """Base of every error a user can cause or fix; `exit_code` is the CLI's exit status for it."""

    exit_code = 2


class ConfigError(PassageError):
    """A setting has a value that cannot work."""


class InputError(PassageError):
    """A question, file or argument that cannot be used as given."""


class LoadError(InputError):
    """A file that could not be loaded; the message names the file and the reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class EmptyIndexError(PassageError):
    """Nothing is ingested yet."""

    def __init__(self) -> None:
        super().__init__(f"nothing is ingested yet; {ingest_hint()}")


class NoIndexError(EmptyIndexError):
    """A command that only reads (or removes) found no index where the settings point."""

    def __init__(self, where: str) -> None:
        PassageError.__init__(self, f"no index at {where}; {ingest_hint()} first")


class NotFoundError(PassageError):
    """A document or run that does not exist."""


class StoreError(PassageError):
    """The vector store cannot be reached or refused an operation."""


class BusyError(PassageError):
    """Another process is writing to the index and the caller chose not to wait."""

    exit_code = 1


class LLMError(PassageError):
    """The language model backend failed: down, timed out, refused, or replied with nothing usable."""
