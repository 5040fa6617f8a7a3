"""Word .docx: body paragraphs and table cells in document order, one block per paragraph.

Simplified: headings are recognised by style name only ("Title", "Heading 1".."Heading 9"),
not by outline level or direct formatting; a Title paragraph is level 1 and pushes every
"Heading N" down to level N + 1. Each table cell becomes one block (merged cells once);
headers, footers, footnotes, comments and text boxes are left out. A file whose parts
would unpack to more than MAX_UNPACKED bytes (a zip bomb) is refused before anything is unpacked.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
from docx.table import Table

from passage.errors import LoadError
from passage.models import Document, Heading

from .base import clean_title, detail, require_text, size_text, source_name, title_from_name

_HEADING_STYLE = re.compile(r"^Heading ([1-9])$")
MAX_UNPACKED = 256 * 1024 * 1024  # real documents unpack to a few times their size, a zip bomb to thousands


def load(path: Path, data: bytes) -> Document:
    _check_unpacked_size(path, data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
        core_title = clean_title(" ".join((document.core_properties.title or "").split()))
        author = " ".join((document.core_properties.author or "").split())
    except Exception as exc:  # zipfile, lxml and python-docx each raise their own types
        raise LoadError(str(path), f"not a valid .docx file ({detail(exc)})") from None
    shift = 1 if any(level == 0 for _, level in blocks) else 0
    parts, headings, pos = [], [], 0
    for text, level in blocks:
        if level is not None:
            heading_level = 1 if level == 0 else level + shift
            headings.append(Heading(heading_level, clean_title(" ".join(text.split())), pos, pos + len(text)))
        parts.append(text)
        pos += len(text) + 2
    text = "\n\n".join(parts)
    require_text(path, text)
    title_paragraph = next((text for text, level in blocks if level == 0), "")
    title = core_title or clean_title(" ".join(title_paragraph.split())) or title_from_name(path.stem)
    metadata = {"title": title, **({"author": author} if author else {})}
    return Document(
        source=source_name(path), path=str(path), kind="docx", title=title, text=text,
        headings=tuple(headings), metadata=metadata,
    )


def _check_unpacked_size(path: Path, data: bytes) -> None:
    """Refuse a zip whose parts declare more than MAX_UNPACKED bytes (zipfile reads no more than declared)."""
    try:
        total = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except Exception:  # not a readable zip: python-docx says why
        return
    if total > MAX_UNPACKED:
        raise LoadError(str(path), f"unpacks to {size_text(total)}; at most {size_text(MAX_UNPACKED)} is read")


def _blocks(document) -> list[tuple[str, int | None]]:
    """(text, heading level) of each non-empty block: 0 for a Title, N for "Heading N", else None."""
    out: list[tuple[str, int | None]] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out += [(text, None) for text in _cells(item)]
        elif text := item.text.strip():
            out.append((text, _level(item.style.name if item.style is not None else "")))
    return out


def _level(style: str | None) -> int | None:
    """`_level("Heading 2") == 2`, `_level("Title") == 0`, `_level("Normal") is None`."""
    if style == "Title":
        return 0
    m = _HEADING_STYLE.match(style or "")
    return int(m.group(1)) if m else None


def _cells(table: Table) -> list[str]:
    """Text of each cell, row by row; a merged cell spans several grid positions but counts once."""
    seen, out = set(), []
    for row in table.rows:
        for cell in row.cells:
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            if text := cell.text.strip():
                out.append(text)
    return out
