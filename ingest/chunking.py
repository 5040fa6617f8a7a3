"""Chunking by the embedding model's own word pieces.

Sentences are packed into a chunk while the chunk plus its heading prefix fits the token
budget; chunks never cross a section boundary and never cut a sentence, except a single
sentence longer than the budget, which is split between words. The next chunk repeats
the previous chunk's trailing sentences up to `overlap_tokens`.
"""
from __future__ import annotations

from dataclasses import dataclass

from passage.errors import ConfigError
from passage.models import Chunk, Document, Section, content_hash, section_label

from .sentences import sentence_spans

PREFIX_TOKENS = 48
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
MARGIN = 2


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


class Chunker:
    """Usage: `Chunker(embedder, max_tokens=200).chunk(doc, split_sections(doc))`."""

    def __init__(self, embedder, max_tokens: int = 200, overlap_tokens: int = 40):
        if max_tokens > embedder.max_tokens:
            raise ConfigError(f"chunk_tokens={max_tokens} exceeds what {embedder.name} reads ({embedder.max_tokens})")
        if overlap_tokens >= max_tokens // 2:
            raise ConfigError(f"chunk_overlap_tokens={overlap_tokens} must be under half of chunk_tokens={max_tokens}")
        self.embedder = embedder
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens

    @property
    def signature(self) -> str:
        """Changes whenever re-chunking would give different chunks."""
        return f"{self.embedder.name}/{self.max_tokens}/{self.overlap_tokens}/v1"

    def chunk(self, doc: Document, sections: list[Section]) -> list[Chunk]:
        chunks: list[Chunk] = []
        for section in sections:
            chunks.extend(self._chunk_section(doc, section))
        return chunks

    def _chunk_section(self, doc: Document, section: Section) -> list[Chunk]:
        label = section.label
        prefix = self._prefix(section_label(doc.title, label), section.path[-1])
        prefix_tokens = self.embedder.count_tokens([prefix])[0]
        budget = self.max_tokens - prefix_tokens - SPECIAL_TOKENS - MARGIN
        units = self._units(doc.text, section, budget)
        return [self._make(doc, label, prefix, group, prefix_tokens) for group in self._pack(units, budget)]

    def _prefix(self, full: str, last: str) -> str:
        """The heading path to embed with the text, shortened when it is long."""
        for candidate in (full, last):
            if self.embedder.count_tokens([candidate])[0] <= PREFIX_TOKENS:
                return candidate
        return self.embedder.truncate(last, PREFIX_TOKENS)

    def _units(self, text: str, section: Section, budget: int) -> list[_Unit]:
        spans = sentence_spans(text, section.start, section.end)
        counts = self.embedder.count_tokens([text[a:b] for a, b in spans])
        units: list[_Unit] = []
        for (a, b), n in zip(spans, counts):
            units.extend([_Unit(a, b, n)] if n <= budget else self._split_long(text, a, b, budget))
        return units

    def _split_long(self, text: str, start: int, end: int, budget: int) -> list[_Unit]:
        """Cut an over-long sentence between words into pieces that fit the budget."""
        pieces, pos = [], start
        while pos < end:
            piece = self.embedder.truncate(text[pos:end], budget)
            if pos + len(piece) < end and " " in piece.strip():
                piece = piece[: piece.rstrip().rfind(" ")]
            stop = pos + max(len(piece), 1)
            chunk = text[pos:stop].strip()
            if chunk:
                left = pos + text[pos:stop].find(chunk)
                pieces.append(_Unit(left, left + len(chunk), self.embedder.count_tokens([chunk])[0]))
            pos = stop
        return pieces

    def _pack(self, units: list[_Unit], budget: int) -> list[list[_Unit]]:
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        for unit in units:
            if current and sum(u.tokens for u in current) + unit.tokens > budget:
                groups.append(current)
                current = self._overlap(current, unit, budget)
            current.append(unit)
        if current:
            groups.append(current)
        return groups

    def _overlap(self, previous: list[_Unit], nxt: _Unit, budget: int) -> list[_Unit]:
        """Trailing units of `previous` to repeat, within the overlap and the budget."""
        tail: list[_Unit] = []
        for unit in reversed(previous[1:]):
            total = sum(u.tokens for u in tail) + unit.tokens
            if total > self.overlap_tokens or total + nxt.tokens > budget:
                break
            tail.insert(0, unit)
        return tail

    def _make(self, doc: Document, label: str, prefix: str, group: list[_Unit], prefix_tokens: int) -> Chunk:
        start, end = group[0].start, group[-1].end
        text = doc.text[start:end]
        key = "\0".join([doc.source, str(start), str(end), label, prefix, text])
        return Chunk(
            id=content_hash(key)[:32], source=doc.source, title=doc.title, section=label, text=text,
            start=start, end=end, page=doc.page_at(start),
            tokens=sum(u.tokens for u in group) + prefix_tokens + SPECIAL_TOKENS, prefix=prefix,
        )
