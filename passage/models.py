"""Value objects that cross module boundaries.

A loader turns a file into a `Document`; sectioning gives `Section`s; chunking gives
`Chunk`s; retrieval returns a `Retrieval` of `Passage`s; answering returns an `Answer` whose
`Citation`s point back at passages.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping


def content_hash(text: str) -> str:
    """Stable hex digest of text: `content_hash("a")[:8] == "ca978112"`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Heading:
    """A heading at `level`; its own text is `text[start:end]` (empty for an implied one)."""

    level: int
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Page:
    """Page `number` (1-based) begins at character `start` of the document text."""

    number: int
    start: int


@dataclass(frozen=True)
class Document:
    """A loaded file: its text, headings and where its content begins and ends."""

    source: str
    path: str
    kind: str
    title: str
    text: str
    headings: tuple[Heading, ...] = ()
    pages: tuple[Page, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    body_start: int = 0
    body_end: int | None = None

    @property
    def content_hash(self) -> str:
        return content_hash(self.text)

    @property
    def end(self) -> int:
        return len(self.text) if self.body_end is None else self.body_end

    def page_at(self, offset: int) -> int | None:
        """Page holding `offset`, or None for documents without pages."""
        number = None
        for page in self.pages:
            if page.start > offset:
                break
            number = page.number
        return number


@dataclass(frozen=True)
class SectionSpan:
    """Where the section labelled `label` (its heading path) lies in its document: `text[start:end]`."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Section:
    """The content under one heading path, `text[start:end]` of its document."""

    path: tuple[str, ...]
    start: int
    end: int
    page: int | None = None

    @property
    def label(self) -> str:
        return " > ".join(self.path)

    @property
    def span(self) -> SectionSpan:
        return SectionSpan(self.label, self.start, self.end)


@dataclass(frozen=True)
class Chunk:
    """A piece of one section, embedded with its heading prefix."""

    id: str
    source: str
    title: str
    section: str
    text: str
    start: int
    end: int
    page: int | None
    tokens: int
    prefix: str

    @property
    def embed_text(self) -> str:
        return f"{self.prefix}\n{self.text}" if self.prefix else self.text

    @property
    def label(self) -> str:
        """`Title > Section`, without repeating a title the section already starts with."""
        return section_label(self.title, self.section)


def section_label(title: str, section: str) -> str:
    if not section or section == title:
        return title
    if section.startswith(title + " > "):
        return section
    return f"{title} > {section}"


@dataclass(frozen=True)
class DocumentRecord:
    """What the index knows of one ingested document (its manifest entry); records written
    before section spans were kept have none. `removing` marks a tombstone: a removal has
    begun, readers treat the document as gone, and the next writer finishes the removal."""

    source: str
    title: str
    path: str
    kind: str
    content_hash: str
    chunk_ids: tuple[str, ...]
    sections: int
    added_at: str
    chunking: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    spans: tuple[SectionSpan, ...] = ()
    removing: bool = False


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score (higher is better) under the mode that found it."""

    chunk: Chunk
    score: float


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for one query: the k passages shown, the wider ranked pool they were cut from,
    and the query's vector (None when no dense search ran)."""

    query: str
    passages: tuple[Passage, ...]
    pool: tuple[Passage, ...] = ()  # fused, de-duplicated ranking, at least as long as `passages`
    vector: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Citation:
    """Marker `[n]` of an answer: the passage it points at and the sentences quoted from it."""

    n: int
    passage: Passage
    quotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, the markers it carries, and whether the sources support it."""

    text: str
    markers: tuple[int, ...]
    supported: bool | None = None


LOW_CONFIDENCE = 0.5  # below this the answerer rates its answer less likely right than not


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    retrieved: tuple[Passage, ...]
    sentences: tuple[AnswerSentence, ...] = ()
    timings_ms: Mapping[str, float] = field(default_factory=dict)
    answerer: str = "extractive"
    groundedness: float | None = None
    notice: str = ""
    query: str = ""
    confidence: float | None = None
    answerability: float | None = None

    @property
    def low_confidence(self) -> bool:
        """An answer, not an abstention, whose confidence is under LOW_CONFIDENCE (the chat marks it)."""
        return not self.abstained and self.confidence is not None and self.confidence < LOW_CONFIDENCE
