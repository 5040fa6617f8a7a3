"""Where passage keeps its index by default, and where the bundled documents are.

The data folder defaults to the platform's per-user data directory (`platformdirs`:
`~/.local/share/passage` on Linux, or under `$XDG_DATA_HOME`; `~/Library/Application
Support/passage` on macOS; `%LOCALAPPDATA%\\passage` on Windows), so every command and the
LangChain retriever find the same index from any folder. `PASSAGE_DATA_DIR` or `--data-dir`
names another one, such as an existing `./.passage`.

The bundled corpus is the repository's `corpus/` folder, found beside the packages: that is
where it is in a checkout and in an editable install (`pip install -e .`). A wheel does not
ship it; then `bundled_corpus()` is None and the home starts empty.
"""
from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

_CORPUS = Path(__file__).resolve().parent.parent / "corpus"

BUNDLED_MARKER = "bundled-corpus-added"  # in a data folder: its first use has happened


def default_data_dir() -> Path:
    """The per-user data folder, e.g. `~/.local/share/passage` on Linux."""
    return user_data_path("passage", appauthor=False)


def bundled_corpus() -> Path | None:
    """The repository's `corpus/` folder, or None where the product was installed without it."""
    return _CORPUS if _CORPUS.is_dir() else None


def ingest_hint() -> str:
    """What to run to fill an index: the bundled corpus by its full path, so it works from any folder."""
    corpus = bundled_corpus()
    return f"run `passage ingest {corpus}` (or your own folder)" if corpus else "run `passage ingest` on a folder of documents"
