"""BM25 over the stored chunks (bm25s, English stop words, Snowball stemming).

The index is saved under the data dir's cache, in a folder named by a fingerprint of the
store's chunk ids, so it is rebuilt exactly when chunks are added, replaced or removed
(from this process or any other) and loaded from disk otherwise. When the cache cannot be
written (a read-only folder, a file in its place, a full disk) the index lives in memory
only, with one warning per folder per process.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from passage.models import Chunk, content_hash

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


def fingerprint(chunk_ids: set[str]) -> str:
    return content_hash("\n".join(sorted(chunk_ids)))[:16]


class Bm25Index:
    """Usage: `Bm25Index.build(chunks).search("question", k=5)` -> [(chunk_id, score), ...]."""

    def __init__(self, model, ids: list[str], snowball=None):
        self._model = model
        self.ids = ids
        self._stemmer = snowball or stemmer()

    @classmethod
    def build(cls, chunks: Sequence[Chunk]) -> "Bm25Index":
        import bm25s

        english = stemmer()
        model = bm25s.BM25()
        if chunks:
            model.index(tokenize([c.embed_text for c in chunks], english), show_progress=False)
        return cls(model, [c.id for c in chunks], english)

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        vocab = self._model.vocab_dict
        tokens = [t for t in tokenize([query], self._stemmer)[0] if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._model.get_scores(tokens), dtype=float)
        order = np.argsort(-scores, kind="stable")
        hits = [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]
        if allowed is not None:
            hits = [h for h in hits if h[0] in allowed]
        return hits[:k]

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


def load_or_build(store, cache_dir: Path) -> Bm25Index:
    """The index for the store's current chunks, from disk when it is already there."""
    folder = cache_dir / "bm25" / fingerprint(store.chunk_ids())
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
