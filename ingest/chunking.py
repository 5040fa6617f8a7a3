"""Chunking by the embedding model's own word pieces.

Sentences are packed into a chunk while the chunk plus its heading prefix fits the token
budget and the chunk holds at most `max_tokens * CHARS_PER_TOKEN` characters (1,536 for 128
word pieces); chunks never cross a section boundary and never cut a sentence, except a single
sentence over either limit, which is split between words, or inside a word when one word is
over a limit on its own. The next chunk repeats the previous chunk's trailing sentences up to
`overlap_tokens`. Each chunk's token count is checked on its whole text with the model's
tokenizer, so the limits hold whatever the text is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from passage.errors import ConfigError
from passage.models import Chunk, Document, Section, content_hash, section_label

from .sentences import sentence_spans, trimmed_spans

PREFIX_TOKENS = 48
SPECIAL_TOKENS = 2  # [CLS] and [SEP]
MARGIN = 2
MIN_TEXT_TOKENS = 16
# Prose averages 4-6 characters per word piece, so this cap only binds on text the tokenizer
# reads as few pieces: a run of over 100 characters without a space is a single [UNK].
CHARS_PER_TOKEN = 12
_LAST_SPACE = re.compile(r"\s(?=\S*$)")


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
        self.max_chars = max_tokens * CHARS_PER_TOKEN
        # A long heading path must leave room for text: at most PREFIX_TOKENS, less for small chunks.
        self.prefix_tokens = min(PREFIX_TOKENS, max_tokens - SPECIAL_TOKENS - MARGIN - MIN_TEXT_TOKENS)

    @property
    def signature(self) -> str:
        """Changes whenever re-chunking would give different chunks."""
        return f"{self.embedder.name}/{self.max_tokens}/{self.overlap_tokens}/v2"

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
        groups = self._verified(doc.text, self._pack(units, budget), budget)
        return [self._make(doc, label, prefix, group, tokens + prefix_tokens) for group, tokens in groups]

    def _prefix(self, full: str, last: str) -> str:
        """The heading path to embed with the text, shortened when it is long."""
        limit, chars = self.prefix_tokens, self.prefix_tokens * CHARS_PER_TOKEN
        for candidate in (full, last):
            if len(candidate) <= chars and self.embedder.count_tokens([candidate])[0] <= limit:
                return candidate
        return self.embedder.truncate(last[:chars], limit)

    def _units(self, text: str, section: Section, budget: int) -> list[_Unit]:
        spans = [p for a, b in sentence_spans(text, section.start, section.end) for p in _cut(text, a, b, self.max_chars)]
        counts = self.embedder.count_tokens([text[a:b] for a, b in spans])
        units: list[_Unit] = []
        for (a, b), n in zip(spans, counts):
            units.extend([_Unit(a, b, n)] if n <= budget else self._split_long(text, a, b, budget))
        return units

    def _split_long(self, text: str, start: int, end: int, budget: int) -> list[_Unit]:
        """Cut an over-long sentence into pieces that fit the budget: between words, or inside a
        word too long to fit on its own."""
        pieces, pos = [], start
        while pos < end:
            stop = pos + self._fit(text[pos:end], budget)
            chunk = text[pos:stop].strip()
            if chunk:
                left = pos + text[pos:stop].find(chunk)
                pieces.append(_Unit(left, left + len(chunk), self.embedder.count_tokens([chunk])[0]))
            pos = stop
        return pieces

    def _fit(self, text: str, budget: int) -> int:
        """Length of the longest start of `text` that counts at most `budget` word pieces on its
        own, ending at white space when it has any (at least one character)."""
        size = len(self.embedder.truncate(text, budget))
        if size < len(text) and (space := _last_space(text, size)) > 0:
            size = space
        size = max(size, 1)
        # Cut inside a word, the piece may tokenize differently alone: count again until it fits.
        while size > 1 and (n := self.embedder.count_tokens([text[:size].strip()])[0]) > budget:
            size = max(1, min(size - 1, size * budget // n))
        return size

    def _pack(self, units: list[_Unit], budget: int) -> list[list[_Unit]]:
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        for unit in units:
            if current and not self._fits(current, unit, budget):
                groups.append(current)
                current = self._overlap(current, unit, budget)
            current.append(unit)
        if current:
            groups.append(current)
        return groups

    def _fits(self, group: list[_Unit], unit: _Unit, budget: int) -> bool:
        """Whether `unit` can join `group` within both the token budget and the character cap."""
        return sum(u.tokens for u in group) + unit.tokens <= budget and unit.end - group[0].start <= self.max_chars

    def _overlap(self, previous: list[_Unit], nxt: _Unit, budget: int) -> list[_Unit]:
        """Trailing units of `previous` to repeat, within the overlap and the budget."""
        tail: list[_Unit] = []
        for unit in reversed(previous[1:]):
            total = sum(u.tokens for u in tail) + unit.tokens
            if total > self.overlap_tokens or not self._fits([unit, *tail], nxt, budget):
                break
            tail.insert(0, unit)
        return tail

    def _verified(self, text: str, groups: list[list[_Unit]], budget: int) -> list[tuple[list[_Unit], int]]:
        """Each group with the word pieces its text really counts; a group over the budget (its
        units' counts can differ from the whole's where a word was cut) becomes one group per unit."""
        counts = self.embedder.count_tokens([text[g[0].start : g[-1].end] for g in groups])
        out: list[tuple[list[_Unit], int]] = []
        for group, n in zip(groups, counts):
            out += [(group, n)] if n <= budget else [([u], u.tokens) for u in group]
        return out

    def _make(self, doc: Document, label: str, prefix: str, group: list[_Unit], tokens: int) -> Chunk:
        start, end = group[0].start, group[-1].end
        text = doc.text[start:end]
        key = "\0".join([doc.source, str(start), str(end), label, prefix, text])
        return Chunk(
            id=content_hash(key)[:32], source=doc.source, title=doc.title, section=label, text=text,
            start=start, end=end, page=doc.page_at(start), tokens=tokens + SPECIAL_TOKENS, prefix=prefix,
        )


def _cut(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """text[start:end] in spans of at most `limit` characters, cut at white space where there is
    some, trimmed: `_cut("aaaa bb", 0, 7, 5) == [(0, 4), (5, 7)]`, `_cut("abcdef", 0, 6, 4) == [(0, 4), (4, 6)]`."""
    cuts, pos = [], start
    while end - pos > limit:
        pos += _last_space(text[pos : pos + limit + 1], limit) or limit
        cuts.append(pos)
    return trimmed_spans(text, start, cuts + [end])


def _last_space(text: str, limit: int) -> int:
    """Offset of the last white space in text[1:limit + 1] (0 if none): `_last_space("ab cd", 4) == 2`."""
    m = _LAST_SPACE.search(text[: limit + 1], 1)
    return m.start() if m else 0
