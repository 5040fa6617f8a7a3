"""Labelled questions as the reader sees them: the test set's items read through retrieval.

`collect(assistant, items)` retrieves each item the way the assistant answers it (follow-ups
rewritten) and keeps the reader's inputs (candidates and their features) with the item's gold
quotes. A candidate is evidence when it holds a reference quote, or lies inside a longer one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rag.evaluation.metrics import holds
from rag.reader.reader import Inputs

MIN_SENTENCE_WORDS_INSIDE_QUOTE = 6


@dataclass(frozen=True)
class Example:
    """One question's reader inputs, its gold quotes, and whether it can be answered."""

    id: str
    inputs: Inputs
    quotes: tuple[str, ...]
    source: str
    answerable: bool

    @property
    def labels(self) -> np.ndarray:
        return np.array([is_evidence(c.text, c.passage.chunk.source, self.quotes, self.source)
                         for c in self.inputs.candidates], dtype=float)


def is_evidence(sentence: str, source: str, quotes: Sequence[str], gold_source: str = "") -> bool:
    """A sentence states the answer when it holds a quote, or lies inside a longer one.

    `is_evidence("She escaped at 13.", "a", ["escaped at 13"]) is True`"""
    if gold_source and source != gold_source:
        return False
    return any(holds(q, sentence) or (len(sentence.split()) >= MIN_SENTENCE_WORDS_INSIDE_QUOTE and len(q) > len(sentence)
                                      and holds(sentence, q)) for q in quotes)


def collect(assistant, items, progress=None) -> tuple:
    """The first-stage reader and each item's inputs, retrieved the way the assistant answers it
    (follow-ups rewritten)."""
    from rag.reader import build_first_stage

    settings = assistant.settings
    reader = build_first_stage(assistant.retriever.embedder, assistant.retriever, settings.sentence_cache, settings.reader_pool)
    rewriter = assistant.answering("extractive").rewriter
    examples = []
    for done, item in enumerate(items, start=1):
        query = rewriter.rewrite(item.question, list(item.history))
        retrieval = assistant.retriever.search(query, settings.k, settings.mode)
        examples.append(Example(item.id, reader.inputs(item.question, retrieval), item.reference_contexts,
                                item.source, item.answerable))
        if progress:
            progress(done, len(items))
    return reader, examples
