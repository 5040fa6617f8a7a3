"""The seam for reading models: score a question against candidate sentences.

A `SentenceScorer` gives each candidate the probability that it states the answer. The reader
composes its answer from whichever scorer it is given (reader.Reader): the trained
cross-encoder (cross_encoder.CrossEncoderScorer) reads the question with each sentence in its
context; `SimilarityScorer` is the cheap one, the embedding model's cosine of the question
and the sentence in its context, mapped to [0, 1]. Contract tests run every scorer through the
same cases (tests/test_scorer_contract.py).
"""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from .candidates import Candidate


class SentenceScorer(Protocol):
    name: str

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        """One probability in [0, 1] per candidate, in their order; empty in, empty out."""


class SimilarityScorer:
    """Usage: `SimilarityScorer(vectors).score(question, candidates)`; `vectors` embeds texts to
    unit vectors (`embed(texts) -> array`), e.g. the reader's sentence-vector cache."""

    name = "similarity"

    def __init__(self, vectors, embed_question=None):
        self.vectors = vectors
        self.embed_question = embed_question or (lambda q: np.asarray(vectors.embed([q])[0], dtype=np.float32))

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        q = self.embed_question(question)
        sims = np.asarray(self.vectors.embed([c.context for c in candidates]), dtype=np.float32) @ q
        return np.clip((sims + 1.0) / 2.0, 0.0, 1.0).astype(float)
