"""PDF: pypdf's text of each page, pages joined by a blank line; headings from the outline.

Simplified: without an outline (bookmarks), headings are guessed from font size: a short
line clearly larger than the body size (the most common size, counted by characters) is a
heading, bigger sizes getting lower levels. Outline titles and guessed headings are found
in their page's text (a whole line first); those not found are skipped. Without a /Title,
the title is the first heading only if it is on page 1. An encrypted PDF is opened only if
its user password is empty. No OCR: a PDF whose pages hold no text (a scan) is refused.
"""
from __future__ import annotations

import io
import math
import re
from collections import Counter
from pathlib import Path

from pypdf import PasswordType, PdfReader

from passage.errors import LoadError
from passage.models import Document, Heading, Page

from .base import clean_title, detail, source_name, title_from_name

_LARGER = 1.15  # a heading's size is at least this many times the body size
_MAX_WORDS = 12

Line = tuple[str, float]  # (text, font size)


def load(path: Path, data: bytes) -> Document:
    reader = _open(path, data)
    try:
        page_texts, page_lines = zip(*map(_read_page, reader.pages)) if reader.pages else ((), ())
        info = reader.metadata or {}
    except Exception as exc:  # pypdf raises many types for damaged files
        raise LoadError(str(path), f"not a valid PDF ({detail(exc)})") from None
    try:
        outline = _outline(reader, reader.outline)
    except Exception:  # a broken outline is not worth refusing the file: guess headings instead
        outline = []
    if not any(t.strip() for t in page_texts):
        raise LoadError(str(path), "no extractable text (scanned PDF?)")
    pages, pos = [], 0
    for number, page_text in enumerate(page_texts, start=1):
        pages.append(Page(number, pos))
        pos += len(page_text) + 2
    text = "\n\n".join(page_texts)
    headings = _locate(outline, page_texts, pages) or _by_font_size(page_lines, page_texts, pages)
    meta = {k: _clean(info.get(f"/{k.title()}")) for k in ("title", "author", "subject")}
    # A first heading past page 1 names a chapter, not the document (and would label the preamble).
    first_page_end = pages[1].start if len(pages) > 1 else len(text)
    first = next((h.title for h in headings if h.start < first_page_end), None)
    title = meta["title"] or first or title_from_name(path.stem)
    metadata = {k: v for k, v in {**meta, "title": title}.items() if v}
    return Document(
        source=source_name(path), path=str(path), kind="pdf", title=title, text=text,
        headings=tuple(headings), pages=tuple(pages), metadata=metadata,
    )


def _open(path: Path, data: bytes) -> PdfReader:
    """A reader for `data`, decrypted if its user password is empty."""
    if b"%PDF-" not in data[:1024]:
        raise LoadError(str(path), "not a valid PDF (no %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types for damaged files
        raise LoadError(str(path), f"not a valid PDF ({detail(exc)})") from None
    if encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as exc:  # e.g. AES without the `cryptography` package
            raise LoadError(str(path), f"encrypted PDF ({detail(exc)})") from None
        if not opened:
            raise LoadError(str(path), "encrypted PDF (it needs a password)")
    return reader


def _read_page(page) -> tuple[str, list[Line]]:
    """The page's text and its lines with their font sizes (empty if sizes cannot be read)."""
    lines: list[Line] = []
    current: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size):
        # The rendered size is the font size scaled by the text and transformation matrices.
        c, d = tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]
        for i, part in enumerate(text.split("\n")):
            if i:
                _end_line(lines, current)
            if part:
                current.append((part, float(size or 0) * math.hypot(c, d)))

    try:
        text = page.extract_text(visitor_text=visit)
        _end_line(lines, current)
    except (TypeError, ValueError, IndexError, ZeroDivisionError):  # an odd font or matrix: text only
        text, lines = page.extract_text(), []
    return text.strip(), lines


def _end_line(lines: list[Line], runs: list[tuple[str, float]]) -> None:
    text = " ".join("".join(t for t, _ in runs).split())
    if text:
        lines.append((text, round(min(s for t, s in runs if t.strip()), 1)))
    runs.clear()


def _outline(reader: PdfReader, items: list, depth: int = 0) -> list[tuple[int, str, int]]:
    """Flatten the outline to (level, title, page index); a nested list holds the children."""
    out = []
    for item in items:
        if isinstance(item, list):
            out += _outline(reader, item, depth + 1)
        elif (page := reader.get_destination_page_number(item)) is not None and _clean(item.title):
            out.append((depth + 1, _clean(item.title), page))
    return out


def _by_font_size(page_lines: tuple[list[Line], ...], page_texts: tuple[str, ...], pages: list[Page]) -> list[Heading]:
    sizes = Counter()
    for lines in page_lines:
        for line, size in lines:
            sizes[size] += len(line)
    body = sizes.most_common(1)[0][0] if sizes else 0
    if body <= 0:  # no sizes were read: no guesses
        return []
    found = [(size, line, index) for index, lines in enumerate(page_lines) for line, size in lines
             if size >= body * _LARGER and len(line.split()) <= _MAX_WORDS]
    levels = {size: level for level, size in enumerate(sorted({s for s, _, _ in found}, reverse=True), start=1)}
    return _locate([(levels[size], line, index) for size, line, index in found], page_texts, pages)


def _locate(wanted: list[tuple[int, str, int]], page_texts: tuple[str, ...], pages: list[Page]) -> list[Heading]:
    """Headings at the offsets where their titles appear on their pages, in text order."""
    out, after = [], {}
    for level, title, index in wanted:
        if not 0 <= index < len(page_texts):
            continue
        words = r"\s+".join(map(re.escape, title.split()))
        page_text, start = page_texts[index], after.get(index, 0)
        m = (re.compile(rf"^[ \t]*({words})[ \t]*$", re.MULTILINE | re.IGNORECASE).search(page_text, start)
             or re.compile(f"({words})", re.IGNORECASE).search(page_text, start))
        if m:
            after[index] = m.end(1)
            offset = pages[index].start
            out.append(Heading(level, clean_title(title), offset + m.start(1), offset + m.end(1)))
    return sorted(out, key=lambda h: h.start)


def _clean(value: object) -> str:
    """A metadata or outline string with white space collapsed; ReportLab's "untitled" is empty."""
    text = clean_title(" ".join(str(value or "").split()))
    return "" if text.lower() in ("untitled", "unspecified", "anonymous") else text
