"""The sentence reader: picks the sentence that answers a question, and says how sure it is.

Two stages over the sentences of the retrieved pool: `features` and `model` (the sentence
model: a logistic regression over hand-made signals) rank every candidate cheaply; the
reading model (`cross_encoder`: MiniLM trained as a cross-encoder on public
question-answering data) reads the best of them; `calibration`
turns its scores into answerability and confidence; `answerer` builds the cited answer or the
abstention. Both stages ship in `model/` (reader.json, the ONNX file, weights.json).
Training lives outside the runtime, in the top-level `training` package.
"""
from __future__ import annotations

from pathlib import Path


def build_reader(embedder, retriever, cache_file: Path, pool: int = 20, weights=None, model_folder: Path | None = None,
                 threads: int = 0):
    """A reader over `retriever`'s BM25 statistics, caching sentence vectors in `cache_file`, reading
    with the shipped reading model (or the one in `model_folder`)."""
    from rag.bm25 import stemmer, tokenize

    from .calibration import Calibration
    from .cross_encoder import CrossEncoderScorer
    from .model import load_weights
    from .reader import Reader
    from .vectors import VectorCache

    snowball = stemmer()
    scorer = CrossEncoderScorer(model_folder, threads)
    calibration = Calibration.from_json(scorer.stamp.calibration, str(scorer.folder / "reader.json"))
    weights = weights or load_weights(scorer.folder / "weights.json" if model_folder else None)
    return Reader(VectorCache(embedder, cache_file), lambda texts: tokenize(list(texts), snowball),
                  lambda terms: retriever.bm25().idf(terms), weights, scorer, calibration, pool)


def build_first_stage(embedder, retriever, cache_file: Path, pool: int = 20, weights=None):
    """A reader that only computes candidates and their features (what training reads)."""
    from rag.bm25 import stemmer, tokenize

    from .model import blank_weights
    from .reader import Reader
    from .vectors import VectorCache

    snowball = stemmer()
    return Reader(VectorCache(embedder, cache_file), lambda texts: tokenize(list(texts), snowball),
                  lambda terms: retriever.bm25().idf(terms), weights or blank_weights(), pool=pool)
