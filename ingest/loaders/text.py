"""Plain text: headings are bare lines, recognised by shape.

A heading line is short, title-cased, ends without sentence punctuation and stands alone
between blank lines. Text after two or more blank lines that no heading announces opens an
implied section: "Introduction" before the first heading, "Conclusion" after the last.
A trailing web comment form ("Leave a Reply", "Your email address ...") is left out of the body.
"""
from __future__ import annotations

import re
from pathlib import Path

from passage.models import Document, Heading

from .base import SMALL_WORDS, clean_title, source_name, title_from_name

_RESIDUE = re.compile(
    r"^(leave a (reply|comment)|your email address will not be published.*|required fields are marked.*"
    r"|post comment|comment\s*\*?|name\s*\*?|email\s*\*?|website|save my name.*)$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^(\w+ \d{1,2}, \d{4}|\d{4}-\d{2}-\d{2}|\d{1,2} \w+ \d{4})$")


def load(path: Path, text: str) -> Document:
    title = title_from_name(path.stem)
    body_end = _body_end(text)
    lines = _lines(text[:body_end])
    headings = [Heading(1, title, 0, 0)] + _headings(lines)
    return Document(
        source=source_name(path), path=str(path), kind="txt", title=title, text=text,
        headings=tuple(headings), body_end=body_end,
    )


def _lines(text: str) -> list[tuple[int, str]]:
    """`_lines("a\\nb") == [(0, "a"), (2, "b")]`: each line with its start offset."""
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _body_end(text: str) -> int:
    """Offset where a trailing comment-form residue starts (or the text's end)."""
    end = len(text)
    for start, line in reversed(_lines(text)):
        stripped = line.strip()
        if stripped and not _RESIDUE.match(stripped):
            break
        end = start
    return end if text[:end].strip() else len(text)


def is_heading_line(line: str) -> bool:
    """`is_heading_line("Conditions to Leave North Korea") is True`; sentences and dates are not."""
    s = line.strip()
    words = s.split()
    if not 1 <= len(words) <= 14 or len(s) > 100 or _DATE.match(s):
        return False
    if s[-1] in ".,;:!?*)\"”’" or not s[0].isupper():
        return False
    major = [w for w in words if w.lower() not in SMALL_WORDS]
    capitalised = sum(1 for w in major if w[0].isupper() or w[0].isdigit())
    return bool(major) and capitalised / len(major) >= 0.75


def _headings(lines: list[tuple[int, str]]) -> list[Heading]:
    found: list[Heading] = []
    blanks, first_content = 0, True
    pending: list[tuple[int, int]] = []  # (offset, blank lines before) of unheaded blocks
    for i, (start, line) in enumerate(lines):
        if not line.strip():
            blanks += 1
            continue
        prev_blank = i == 0 or not lines[i - 1][1].strip()
        next_blank = i + 1 >= len(lines) or not lines[i + 1][1].strip()
        if prev_blank and next_blank and not first_content and is_heading_line(line):
            found.append(Heading(2, clean_title(line.strip()), start, start + len(line.rstrip())))
        elif blanks >= 2 and not first_content:
            pending.append((start, len(found)))
        blanks, first_content = 0, False
    return _with_implied(found, pending)


def _with_implied(found: list[Heading], pending: list[tuple[int, int]]) -> list[Heading]:
    """Name the unheaded blocks that open or close the text; others stay in their section."""
    intro = [Heading(2, "Introduction", s, s) for s, before in pending if before == 0][:1]
    outro = [Heading(2, "Conclusion", s, s) for s, before in pending if found and before == len(found)][-1:]
    return sorted(found + intro + outro, key=lambda h: h.start)
