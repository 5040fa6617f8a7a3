"""BM25 over the stored chunks (bm25s, English stop words, Snowball stemming).

The index is saved under the data dir's cache, in a folder named by the store's version and
chunk count (`index_key`), so it is rebuilt when chunks are added, replaced or removed (from
this process or any other) and loaded from disk otherwise. A query never reads every chunk:
scoring is one pass of numpy over the postings of the query's terms.
When the cache cannot be written (a read-only folder, a file in its place, a full disk) the
index lives in memory only, with one warning per folder per process.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from passage.models import Chunk

log = logging.getLogger(__name__)
_warned: set[Path] = set()  # cache folders already reported unwritable in this process


def stemmer():
    """The English Snowball stemmer BM25 and the extractive answerer tokenize with."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str], snowball) -> list[list[str]]:
    """`tokenize(["The escapes"], s) == [["escap"]]`: lower-cased, stop words out, stemmed."""
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=snowball, return_ids=False, show_progress=False)


def index_key(store) -> str:
    """Names the store's contents, with two small reads: `"<version>-<chunk count>"`.

    Read before the chunks an index is built from, so an index is never older than its key."""
    return f"{store.version()}-{store.count()}"


class Bm25Index:
    """Usage: `Bm25Index.build(chunks).search("question", k=5)` -> [(chunk_id, score), ...]."""

    def __init__(self, model, ids: list[str], snowball=None):
        self._model = model
        self.ids = ids
        self._stemmer = snowball or stemmer()
        self._positions: dict[str, int] | None = None
        self._masks: tuple[frozenset[str], np.ndarray] | None = None  # the last allowed set and its mask

    @classmethod
    def build(cls, chunks: Sequence[Chunk]) -> "Bm25Index":
        import bm25s

        english = stemmer()
        model = bm25s.BM25()
        if chunks:
            model.index(tokenize([c.embed_text for c in chunks], english), show_progress=False)
        return cls(model, [c.id for c in chunks], english)

    def search(self, query: str, k: int, allowed: frozenset[str] | set[str] | None = None) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        vocab = self._model.vocab_dict
        tokens = [t for t in tokenize([query], self._stemmer)[0] if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._model.get_scores(tokens), dtype=float)
        if allowed is not None:
            scores[~self._mask(allowed)] = 0.0
        return [(self.ids[i], float(scores[i])) for i in top(scores, k) if scores[i] > 0]

    def _mask(self, allowed: frozenset[str] | set[str]) -> np.ndarray:
        """Which indexed chunks are allowed; the mask of the last frozen set asked for is kept,
        since a retriever passes the same one query after query."""
        if self._masks is not None and self._masks[0] is allowed:
            return self._masks[1]
        if self._positions is None:
            self._positions = {cid: i for i, cid in enumerate(self.ids)}
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[[self._positions[cid] for cid in allowed if cid in self._positions]] = True
        if isinstance(allowed, frozenset):
            self._masks = (allowed, mask)
        return mask

    def idf(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's IDF of each distinct term; a term no chunk holds gets the highest possible IDF.

        `idf = log(1 + (N - df + 0.5) / (df + 0.5))` with N chunks, df chunks holding the term.
        """
        n = len(self.ids)
        vocab = self._model.vocab_dict if self.ids else {}
        indptr = self._model.scores["indptr"] if self.ids else None
        out = {}
        for term in dict.fromkeys(terms):
            tid = vocab.get(term)
            df = int(indptr[tid + 1] - indptr[tid]) if tid is not None else 0
            out[term] = float(np.log(1 + (n - df + 0.5) / (df + 0.5)))
        return out

    def save(self, folder: Path) -> None:
        """Write atomically: into a temporary folder, then rename into place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        try:
            if self.ids:
                self._model.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(self.ids))
        except OSError:  # e.g. a full disk: leave no half-written folder behind
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            tmp.rename(folder)
        except OSError:  # another process saved the same index first
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        import bm25s

        ids = json.loads((folder / "ids.json").read_text())
        model = bm25s.BM25.load(str(folder), show_progress=False) if ids else bm25s.BM25()
        return cls(model, ids)


def top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first, ties by position: `top([1, 3, 3, 2], 2) == [1, 2]`.

    A partition finds the k-th score, so only k scores are sorted, not all of them."""
    scores = np.asarray(scores)
    picked = np.arange(len(scores))
    if k < len(scores):
        cut = np.partition(scores, len(scores) - k)[len(scores) - k]
        picked = np.concatenate([np.flatnonzero(scores > cut), np.flatnonzero(scores == cut)])[:k]
    return picked[np.lexsort((picked, -scores[picked]))]


def load_or_build(store, cache_dir: Path, key: str | None = None) -> Bm25Index:
    """The index for the store's contents named `key` (default: read it now), from disk when it is there."""
    folder = cache_dir / "bm25" / (key or index_key(store))
    if (folder / "ids.json").exists():
        try:
            return Bm25Index.load(folder)
        except Exception:  # a damaged cache is rebuilt, whatever the damage
            shutil.rmtree(folder, ignore_errors=True)
    index = Bm25Index.build(store.chunks())
    try:
        index.save(folder)
        for other in folder.parent.iterdir():
            if other != folder and not other.name.startswith(".tmp-"):
                shutil.rmtree(other, ignore_errors=True)
    except OSError as exc:
        if cache_dir not in _warned:
            _warned.add(cache_dir)
            log.warning("cannot write the BM25 cache in %s (%s); keeping the index in memory", cache_dir,
                        exc.strerror or type(exc).__name__)
    return index
