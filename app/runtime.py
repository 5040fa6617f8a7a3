"""What every entry point (the CLI, the web page, the tests) sets up before the libraries load:
no model hub, no progress bars or tokenizer threads from the embedding libraries, and logging.
The library code itself never writes the environment or configures logging.
"""
from __future__ import annotations

import logging
import os

from passage.redact import RedactingFilter


def quiet_libraries() -> None:
    """The embedding model's libraries: offline (the weights ship in a package) and quiet."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def configure(level: int = logging.WARNING) -> None:
    """`quiet_libraries`, and one line per log record at `level` and above on stderr, URL credentials masked."""
    quiet_libraries()
    handler = logging.StreamHandler()
    handler.setLevel(level)  # some libraries lower their own loggers' level when imported
    handler.addFilter(RedactingFilter())
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", handlers=[handler])
