"""The sentence reader: picks the sentence that answers a question, and says how sure it is.

`features` turns (question, candidate sentences) into numbers, `model` holds the learned
weights (a versioned JSON file beside the code, retrained by `passage train-reader`),
and `answerer` builds the cited answer or the abstention from them.
"""
from __future__ import annotations

from pathlib import Path


def build_reader(embedder, retriever, cache_file: Path, pool: int = 20, weights=None, likelihood=None):
    """A reader over `retriever`'s BM25 statistics, caching sentence vectors in `cache_file`; with
    `likelihood` (likelihood.QuestionLikelihood) it re-scores close calls."""
    from rag.bm25 import stemmer, tokenize

    from .model import load_weights
    from .reader import Reader
    from .vectors import VectorCache

    snowball = stemmer()
    return Reader(VectorCache(embedder, cache_file), lambda texts: tokenize(list(texts), snowball),
                  lambda terms: retriever.bm25().idf(terms), weights or load_weights(), pool,
                  likelihood=likelihood)
