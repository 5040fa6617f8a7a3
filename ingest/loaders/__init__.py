"""Load a file into a `Document`, choosing the loader by the file's extension."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from passage.errors import LoadError
from passage.models import Document

from . import markdown, text
from ..names import is_encodable, printable
from .base import decode_text, read_bytes, require_text

TextLoader = Callable[[Path, str], Document]
BinaryLoader = Callable[[Path, bytes], Document]

TEXT_LOADERS: dict[str, TextLoader] = {".txt": text.load, ".md": markdown.load, ".markdown": markdown.load}


def _binary_loaders() -> dict[str, BinaryLoader]:
    from . import docx, html, pdf

    return {".html": html.load, ".htm": html.load, ".pdf": pdf.load, ".docx": docx.load}


SUPPORTED = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


def load_document(path: Path, max_bytes: int) -> Document:
    """Load `path`; any problem raises LoadError naming the file and the reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED and not path.exists():  # a mistyped name is missing, not of a wrong type
        raise LoadError(str(path), "no such file or folder")
    if suffix not in SUPPORTED:
        raise LoadError(str(path), f"unsupported file type {printable(suffix) or '(none)'!r}; supported: {', '.join(SUPPORTED)}")
    if not is_encodable(str(path)):
        raise LoadError(str(path), "the file name is not valid UTF-8; rename the file")
    data = read_bytes(path, max_bytes)
    try:
        if suffix in TEXT_LOADERS:
            doc = TEXT_LOADERS[suffix](path, decode_text(path, data))
        else:
            doc = _binary_loaders()[suffix](path, data)
    except RecursionError:  # a last guard: no nesting in a file may abort the whole batch
        raise LoadError(str(path), "too deeply nested to read") from None
    require_text(path, doc.text[doc.body_start : doc.end])
    return doc
