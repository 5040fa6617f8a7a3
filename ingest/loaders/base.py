"""Checks every loader shares: the file exists, fits the size limit, holds decodable text."""
from __future__ import annotations

import re
from pathlib import Path

from passage.errors import LoadError

SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or LoadError naming what is wrong with it."""
    if not path.exists():
        raise LoadError(str(path), "no such file")
    if not path.is_file():
        raise LoadError(str(path), "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(str(path), f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB)")
    if size == 0:
        raise LoadError(str(path), "empty file")
    return path.read_bytes()


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text of `data`; binary or undecodable bytes raise LoadError."""
    if b"\x00" in data[:8192]:
        raise LoadError(str(path), "binary content (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(str(path), f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if not text.strip():
        raise LoadError(str(path), "empty file (only whitespace)")
    return text


def title_from_name(stem: str) -> str:
    """`title_from_name("leaving-north-korea") == "Leaving North Korea"`."""
    words = re.split(r"[-_\s]+", stem.strip())
    out = [w if w.isupper() else (w.lower() if i and w.lower() in SMALL_WORDS else w.capitalize()) for i, w in enumerate(words) if w]
    return " ".join(out) or stem


def require_text(path: Path, text: str) -> None:
    """A document whose extracted text is blank cannot be indexed."""
    if not text.strip():
        raise LoadError(str(path), "no text could be extracted")
