"""Candidate sentences: every sentence of the retrieved pool, once, with its context.

A passage's sentences are cut by `ingest.sentences`; a sentence that two overlapping chunks
share is kept once, from the better-ranked chunk, and the sentence before it (in the same
chunk, or the one that precedes it in any pooled chunk of the same document) is its context,
so a sentence opening with "She" is read together with the one that names her.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ingest.sentences import sentence_spans
from passage.models import Passage

MIN_WORDS = 3


@dataclass(frozen=True)
class Candidate:
    """Sentence `text` of `passage` (rank `rank` in the pool, 1-based), at `start` in its document."""

    text: str
    passage: Passage
    rank: int
    index: int
    start: int
    previous: str = ""

    @property
    def heading(self) -> str:
        return self.passage.chunk.prefix

    @property
    def context(self) -> str:
        """What the sentence means in place: heading, the sentence before, the sentence."""
        return "\n".join(part for part in (self.heading, f"{self.previous} {self.text}".strip()) if part)


def candidates(pool: Sequence[Passage]) -> list[Candidate]:
    """`candidates([p])` lists p's sentences of at least MIN_WORDS words, in order, with context."""
    seen: dict[tuple[str, int], Candidate] = {}
    ends: dict[tuple[str, int], str] = {}  # (source, end offset) -> sentence, to find a predecessor
    spans = []
    for rank, passage in enumerate(pool, start=1):
        chunk = passage.chunk
        previous = ""
        for index, (a, b) in enumerate(sentence_spans(chunk.text)):
            text = chunk.text[a:b]
            start = chunk.start + a
            spans.append((chunk.source, start, chunk.start + b, text))
            if len(text.split()) >= MIN_WORDS and (chunk.source, start) not in seen:
                seen[(chunk.source, start)] = Candidate(text, passage, rank, index, start, previous)
            previous = text
    for source, start, end, text in spans:
        ends[(source, end)] = text
    out = []
    for c in seen.values():
        if not c.previous:
            c = _with_previous(c, ends)
        out.append(c)
    return out


def _with_previous(c: Candidate, ends: dict[tuple[str, int], str]) -> Candidate:
    """The sentence ending just before `c` (white space apart), if any pooled chunk holds it."""
    for gap in range(0, 4):
        text = ends.get((c.passage.chunk.source, c.start - gap))
        if text:
            return Candidate(c.text, c.passage, c.rank, c.index, c.start, text)
    return c
