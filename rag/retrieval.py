"""Hybrid retrieval: dense (Chroma, cosine) and BM25, fused by reciprocal rank fusion.

Each retriever proposes `candidates` chunks; a chunk's fused score is the sum over the
lists it appears in of 1 / (rrf_k + rank). Near-duplicates (overlapping spans of one
document, or the same text twice) keep only their best-ranked copy. Only chunks a live
manifest record names are returned, so a search never sees a writer's work half done
(chunks written before their record, a document being removed). The live records and the
chunk ids they name are read once per index version (every write stamps a new one), so a
search over 100k chunks does not re-read and re-parse the whole manifest: one small read of
the version says whether they are still current.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ingest.removal import live
from passage.errors import EmptyIndexError, InputError
from passage.models import DocumentRecord, Passage, Retrieval

from .bm25 import Bm25Index, index_key, load_or_build

MODES = ("hybrid", "dense", "bm25")
_RECHECK_S = 1.0  # how stale the BM25 index may be after another process changed the store


@dataclass(frozen=True)
class LiveView:
    """The live records of one index version and the chunk ids a search may return."""

    version: str
    records: tuple[DocumentRecord, ...]
    allowed: frozenset[str]


class Retriever:
    """Usage: `Retriever(store, embedder, cache_dir).search("question", k=5).passages`."""

    def __init__(self, store, embedder, cache_dir: Path, candidates: int = 20, rrf_k: int = 60):
        self.store = store
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._bm25: Bm25Index | None = None
        self._key = ""
        self._checked = 0.0
        self._view: LiveView | None = None

    def refresh(self, key: str | None = None) -> None:
        """Reload the BM25 index after the store changed (`key`: its `index_key`, if just read)."""
        self._key = key or index_key(self.store)
        self._bm25 = load_or_build(self.store, self.cache_dir, self._key)
        self._checked = time.monotonic()

    def bm25(self) -> Bm25Index:
        """The BM25 index of the store's chunks; at most once a second, two small reads check it is current."""
        if self._bm25 is None:
            self.refresh()
        elif time.monotonic() - self._checked > _RECHECK_S:
            key = index_key(self.store)
            if key != self._key:
                self.refresh(key)
            self._checked = time.monotonic()
        return self._bm25

    def search(self, query: str, k: int = 5, mode: str = "hybrid", source: str | None = None) -> Retrieval:
        """The top k passages, the pool they were cut from, and the query's vector (embedded once)."""
        if mode not in MODES:
            raise InputError(f"unknown retrieval mode {mode!r}; choose one of: {', '.join(MODES)}")
        view = self.live()
        if not view.records:
            raise EmptyIndexError()
        allowed = view.allowed if source is None else self._of_source(view.records, source)
        n = max(self.candidates, k * 2)
        vector = tuple(self.embedder.embed([query])[0])  # bm25 mode too: answerers score sentences with it
        dense = [p for p in self.store.query(vector, n, source) if p.chunk.id in allowed] if mode != "bm25" else []
        sparse = self._sparse(query, n, allowed) if mode != "dense" else []
        ranked = dense if mode == "dense" else sparse if mode == "bm25" else self._fuse(dense, sparse)
        pool = tuple(dedupe(ranked)[:n])
        return Retrieval(query, pool[:k], pool, vector)

    def retrieve(self, query: str, k: int = 5, mode: str = "hybrid", source: str | None = None) -> list[Passage]:
        """Only the top k passages of `search`."""
        return list(self.search(query, k, mode, source).passages)

    def live(self) -> LiveView:
        """The live records (tombstones left out) as of the store's current version."""
        version = self.store.version()
        if self._view is None or self._view.version != version:
            records = tuple(live(self.store.records()))
            self._view = LiveView(version, records, frozenset(cid for r in records for cid in r.chunk_ids))
        return self._view

    @staticmethod
    def _of_source(records: tuple[DocumentRecord, ...], source: str) -> frozenset[str]:
        """The chunk ids a search limited to document `source` may return."""
        chosen = [r for r in records if r.source == source]
        if not chosen:
            raise InputError(f"no document {source!r}; choose one of: {', '.join(r.source for r in records)}")
        return frozenset(cid for r in chosen for cid in r.chunk_ids)

    def _sparse(self, query: str, n: int, allowed: frozenset[str]) -> list[Passage]:
        hits = self.bm25().search(query, n, allowed)
        chunks = {c.id: c for c in self.store.chunks([cid for cid, _ in hits])}
        return [Passage(chunks[cid], score) for cid, score in hits if cid in chunks]

    def _fuse(self, *lists: list[Passage]) -> list[Passage]:
        scores: dict[str, float] = {}
        chunks = {}
        for ranked in lists:
            for rank, passage in enumerate(ranked, start=1):
                scores[passage.chunk.id] = scores.get(passage.chunk.id, 0.0) + 1.0 / (self.rrf_k + rank)
                chunks[passage.chunk.id] = passage.chunk
        order = sorted(scores, key=lambda cid: -scores[cid])
        return [Passage(chunks[cid], round(scores[cid], 6)) for cid in order]


def dedupe(ranked: list[Passage], overlap: float = 0.5) -> list[Passage]:
    """Drop a passage that mostly overlaps a better-ranked one of the same document, or repeats its text."""
    kept: list[Passage] = []
    for p in ranked:
        if not any(_near_duplicate(p, q, overlap) for q in kept):
            kept.append(p)
    return kept


def _near_duplicate(a: Passage, b: Passage, overlap: float) -> bool:
    if a.chunk.text.strip() == b.chunk.text.strip():
        return True
    if a.chunk.source != b.chunk.source:
        return False
    shared = min(a.chunk.end, b.chunk.end) - max(a.chunk.start, b.chunk.start)
    shorter = min(a.chunk.end - a.chunk.start, b.chunk.end - b.chunk.start)
    return shorter > 0 and shared / shorter > overlap
