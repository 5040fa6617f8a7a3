"""Split a document into sections: the content under each heading, with its heading path.

A heading of level N closes any open heading of level N or deeper, so the path of a
section is the breadcrumb of headings above it, e.g.
("Leaving North Korea", "Personal Accounts of Successful Escape").
Sections with no content of their own (a heading directly followed by another) are dropped.
"""
from __future__ import annotations

from passage.models import Document, Heading, Section


def split_sections(doc: Document) -> list[Section]:
    sections: list[Section] = []
    stack: list[Heading] = []
    first = doc.headings[0].start if doc.headings else doc.end
    _add(sections, doc, (doc.title,), doc.body_start, first)
    for i, heading in enumerate(doc.headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        end = doc.headings[i + 1].start if i + 1 < len(doc.headings) else doc.end
        _add(sections, doc, tuple(h.title for h in stack), heading.end, end)
    return sections


def _add(sections: list[Section], doc: Document, path: tuple[str, ...], start: int, end: int) -> None:
    """Append the section trimmed of surrounding white space, if anything is left."""
    start, end = max(start, doc.body_start), min(end, doc.end)
    text = doc.text[start:end]
    stripped = text.strip()
    if not stripped:
        return
    start += len(text) - len(text.lstrip())
    end = start + len(stripped)
    sections.append(Section(path, start, end, doc.page_at(start)))
