"""Checks every loader shares: the file exists, fits the size limit, holds decodable text.

Sizes are counted as the settings count them (`max_file_mb` × 1024 × 1024 bytes), and a
message states the limit in the unit it was set in. Text is UTF-8, or UTF-16/UTF-32 when
the file starts with that encoding's byte-order mark.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from passage.errors import LoadError, one_line

from ..names import printable

SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"}
_MB = 1024 * 1024
MAX_TITLE_CHARS = 200
# Longest first: the UTF-32-LE mark begins with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, or LoadError naming what is wrong with it."""
    try:
        return _read_bytes(path, max_bytes)
    except OSError as exc:  # unreadable: permissions, a vanished file, an I/O error
        raise LoadError(str(path), f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    if not path.exists():
        raise LoadError(str(path), "no such file or folder")
    if not path.is_file():
        raise LoadError(str(path), "not a regular file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(str(path), too_large(size, max_bytes))
    if size == 0:
        raise LoadError(str(path), "empty file")
    with path.open("rb") as f:
        data = f.read(max_bytes + 1)  # the file may have grown since it was measured
    if len(data) > max_bytes:
        raise LoadError(str(path), too_large(len(data), max_bytes))
    return data


def too_large(size: int, max_bytes: int) -> str:
    """`too_large(22_334_668, 20 * 1024 * 1024) == "too large: the file is 21.3 MB; the limit is 20 MB (PASSAGE_MAX_FILE_MB)"`."""
    return f"too large: the file is {size_text(size)}; the limit is {size_text(max_bytes)} (PASSAGE_MAX_FILE_MB)"


def size_text(n: int) -> str:
    """`size_text(20 * 1024 * 1024) == "20 MB"`, `size_text(1536) == "1.5 KB"`, `size_text(100) == "100 bytes"`."""
    for unit, scale in (("MB", _MB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark announces: `bom_encoding(b"\\xff\\xfea\\x00") == "utf-16"`; None without one."""
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def decode_text(path: Path, data: bytes) -> str:
    """Text of `data` (UTF-8, or UTF-16/32 with a byte-order mark); binary or undecodable bytes raise LoadError."""
    encoding = bom_encoding(data) or "utf-8-sig"
    if encoding == "utf-8-sig" and b"\x00" in data[:8192]:
        raise LoadError(str(path), "binary content (NUL bytes), not text")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        name = encoding.upper().removesuffix("-SIG")
        raise LoadError(str(path), f"not {name} text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    if "\x00" in text:
        raise LoadError(str(path), "binary content (NUL bytes), not text")
    if not text.strip():
        raise LoadError(str(path), "empty file (only whitespace)")
    return text


def title_from_name(stem: str) -> str:
    """`title_from_name("leaving-north-korea") == "Leaving North Korea"`."""
    words = re.split(r"[-_\s]+", stem.strip())
    out = [w if w.isupper() else (w.lower() if i and w.lower() in SMALL_WORDS else w.capitalize()) for i, w in enumerate(words) if w]
    return clean_title(" ".join(out) or stem)


def clean_title(text: str) -> str:
    """A title or heading, printable and at most MAX_TITLE_CHARS long: `clean_title("a\\x1b") == "a\\\\x1b"`."""
    title = printable(text)
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def source_name(path: Path) -> str:
    """A document's name: its file stem, with control characters escaped (`printable`)."""
    return printable(path.stem)


def detail(exc: BaseException) -> str:
    """A library's error message as one printable line, for a LoadError's reason."""
    return printable(one_line(exc))


def require_text(path: Path, text: str) -> None:
    """A document whose extracted text is blank cannot be indexed."""
    if not text.strip():
        raise LoadError(str(path), "no text could be extracted")
