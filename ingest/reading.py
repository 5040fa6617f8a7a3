"""One indexed document opened for reading: its sections in order, each with its text and the
chunks it was cut into, and a search within it.

The text is the document's own, re-read from its file while the file's content hash still
matches the record; when the file is gone or changed, each section is stitched from its stored
chunks (`library.stitch`), and `from_file` says so. A chunk belongs to the section whose label
it carries and whose span holds its start, so sections that share a label keep their own chunks.
Usage: `doc = read_document(library, "iccpr"); doc.matching("liberty")`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from passage.errors import LoadError
from passage.models import Chunk, Document, DocumentRecord, SectionSpan

from .library import Library, stitch
from .loaders import load_document
from .sections import split_sections


@dataclass(frozen=True)
class SectionText:
    """One section: its heading path, `text` (characters `start`..`end` of the document) and chunks."""

    label: str
    start: int
    end: int
    text: str
    chunks: tuple[Chunk, ...]

    @property
    def path(self) -> tuple[str, ...]:
        """`SectionText("A > B", ...).path == ("A", "B")`."""
        return tuple(self.label.split(" > "))

    def count(self, words: str) -> int:
        """How often `words` occurs in the text, ignoring case: `count("the")` on "The theory" is 2."""
        needle = " ".join(words.split()).casefold()
        return self.text.casefold().count(needle) if needle else 0


@dataclass(frozen=True)
class DocumentText:
    record: DocumentRecord
    sections: tuple[SectionText, ...]
    from_file: bool

    def matching(self, words: str) -> list[tuple[SectionText, int]]:
        """The sections that contain `words` (ignoring case), with how often; every section when `words` is blank."""
        if not words.strip():
            return [(s, 0) for s in self.sections]
        return [(s, n) for s in self.sections if (n := s.count(words))]


def read_document(library: Library, source: str) -> DocumentText:
    """Document `source` by sections; NotFoundError lists the indexed names when there is none."""
    record = library.record(source)
    chunks = sorted(library.store.chunks(record.chunk_ids), key=lambda c: (c.start, c.end))
    current = _current(record, library.max_bytes)
    spans = record.spans or (tuple(s.span for s in split_sections(current)) if current else ()) or _spans_of(chunks)
    sections = []
    for span in spans:
        own = tuple(c for c in chunks if c.section == span.label and span.start <= c.start < max(span.end, span.start + 1))
        body = current.text[span.start:span.end] if current else (stitch(own) if own else "")
        sections.append(SectionText(span.label, span.start, span.end, body, own))
    return DocumentText(record, tuple(sections), current is not None)


def _current(record: DocumentRecord, max_bytes: int) -> Document | None:
    """The record's file, loaded, while it is unchanged since it was indexed; else None."""
    try:
        doc = load_document(Path(record.path), max_bytes)
    except LoadError:
        return None
    return doc if doc.content_hash == record.content_hash else None


def _spans_of(chunks: list[Chunk]) -> tuple[SectionSpan, ...]:
    """Spans rebuilt from chunks (records made before spans were kept): one per run of one label."""
    spans: list[SectionSpan] = []
    for c in chunks:
        if spans and spans[-1].label == c.section:
            spans[-1] = SectionSpan(c.section, spans[-1].start, max(spans[-1].end, c.end))
        else:
            spans.append(SectionSpan(c.section, c.start, c.end))
    return tuple(spans)
