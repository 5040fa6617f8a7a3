"""Ingest files into the store, incrementally and safely.

Order of writes: every new chunk first (ids are content-derived, so writing them twice is
harmless), then the manifest records, then old chunks go. A run killed at any point leaves
at worst chunks no record names, which readers never see; every run starts by finishing
half-done removals and ends by sweeping orphans, so the next run leaves exactly what a
clean ingest leaves. A run the store fails undoes its records. Chunks already in the store
keep their vectors: only text never seen before is embedded, in length-sorted batches
across documents, before anything is written. Callers that share an index run this under
its write lock (`Library` does), since one run's sweep would take another's unrecorded chunks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from passage.errors import LoadError, StoreError
from passage.models import Chunk, Document, DocumentRecord, Section

from .chunking import Chunker
from .loaders import SUPPORTED, load_document
from .removal import drop, finish_removals, sweep
from .sections import split_sections

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass(frozen=True)
class FileOutcome:
    path: str
    source: str
    status: str  # new | unchanged | replaced | failed
    chunks: int = 0
    embedded: int = 0
    error: str = ""


@dataclass(frozen=True)
class IngestReport:
    outcomes: tuple[FileOutcome, ...]
    removed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def chunks(self) -> int:
        return sum(o.chunks for o in self.outcomes)

    @property
    def embedded(self) -> int:
        return sum(o.embedded for o in self.outcomes)


@dataclass
class _Plan:
    doc: Document
    sections: list[Section]
    chunks: list[Chunk]
    old: DocumentRecord | None
    to_embed: list[Chunk] = field(default_factory=list)


class Ingestor:
    """Usage: `Ingestor(store, embedder, chunker, max_bytes).ingest([Path("corpus")])`."""

    def __init__(self, store, embedder, chunker: Chunker, max_bytes: int, batch_size: int = 32):
        self.store = store
        self.embedder = embedder
        self.chunker = chunker
        self.max_bytes = max_bytes
        self.batch_size = batch_size

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None, prune: bool = False) -> IngestReport:
        began = time.perf_counter()
        files, skipped = expand(paths)
        finish_removals(self.store)
        records = {r.source: r for r in self.store.records()}
        existing = self.store.chunk_ids()
        plans, outcomes = self._plan(files, records, existing)
        outcomes += self._apply(plans, existing, progress)
        removed = self._prune(paths, records) if prune else ()
        sweep(self.store)
        order = {str(f): i for i, f in enumerate(files)}
        outcomes.sort(key=lambda o: order.get(o.path, 0))
        return IngestReport(tuple(outcomes), removed, skipped, time.perf_counter() - began)

    def _plan(self, files, records, existing) -> tuple[list[_Plan], list[FileOutcome]]:
        plans, outcomes, seen = [], [], {}
        for path in files:
            try:
                doc = load_document(path, self.max_bytes)
                _check_name(doc, seen, records.get(doc.source))
            except LoadError as exc:
                outcomes.append(FileOutcome(str(path), path.stem, "failed", error=exc.reason))
                continue
            seen[doc.source] = path
            old = records.get(doc.source)
            if _unchanged(old, doc, self.chunker.signature, existing):
                outcomes.append(FileOutcome(str(path), doc.source, "unchanged", len(old.chunk_ids)))
                continue
            sections = split_sections(doc)
            chunks = self.chunker.chunk(doc, sections)
            plans.append(_Plan(doc, sections, chunks, old, [c for c in chunks if c.id not in existing]))
        return plans, outcomes

    def _apply(self, plans: list[_Plan], existing: set[str], progress: Progress | None) -> list[FileOutcome]:
        """Write new chunks, then the records (each one commits its document), then drop stale chunks.

        A store failure before the last record undoes the records already written and the
        new chunks, so a failed run leaves the index as it was (see `_undo`).
        """
        vectors = self._embed([c for p in plans for c in p.to_embed], progress)
        committed: list[_Plan] = []
        try:
            for plan in plans:
                self.store.upsert(plan.to_embed, [vectors[c.id] for c in plan.to_embed])
            for plan in plans:
                committed.append(plan)  # before the write: a failed call may still have landed
                self.store.put_record(_record(plan.doc, plan.sections, plan.chunks, self.chunker.signature))
        except StoreError:
            self._undo(committed)
            raise
        for plan in plans:
            if plan.old:
                self.store.delete(set(plan.old.chunk_ids) - {c.id for c in plan.chunks})
        return [FileOutcome(p.doc.path, p.doc.source, "replaced" if p.old else "new", len(p.chunks), len(p.to_embed))
                for p in plans]

    def _undo(self, committed: list[_Plan]) -> None:
        """Put back the records a failed run replaced, drop those it added, sweep its chunks.

        Best effort: when the store refuses this too (the disk is still full, the server is
        gone), the new chunks stay as orphans no reader sees and the next writer sweeps.
        """
        try:
            for plan in reversed(committed):
                if plan.old:
                    self.store.put_record(plan.old)
                else:
                    self.store.delete_record(plan.doc.source)
            sweep(self.store)
        except StoreError:
            pass

    def _embed(self, chunks: list[Chunk], progress: Progress | None) -> dict[str, list[float]]:
        """Vectors of all new chunks, in length-sorted batches across documents (less padding)."""
        ordered = sorted({c.id: c for c in chunks}.values(), key=lambda c: c.tokens)
        vectors: dict[str, list[float]] = {}
        if progress:
            progress(0, len(ordered))
        step = self.batch_size * 4
        for i in range(0, len(ordered), step):
            batch = ordered[i : i + step]
            vectors.update(zip((c.id for c in batch), self.embedder.embed([c.embed_text for c in batch])))
            if progress:
                progress(len(vectors), len(ordered))
        return vectors

    def _prune(self, paths: Sequence[Path], records: dict[str, DocumentRecord]) -> tuple[str, ...]:
        folders = [p.resolve() for p in paths if p.is_dir()]
        gone = [
            r.source for r in records.values()
            if not Path(r.path).exists() and any(Path(r.path).resolve().is_relative_to(f) for f in folders)
        ]
        for source in gone:
            drop(self.store, records[source])
        return tuple(gone)


def expand(paths: Sequence[Path]) -> tuple[list[Path], tuple[str, ...]]:
    """Files to ingest: named files as they are; folders' supported files, READMEs left out."""
    files, skipped = [], []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for child in sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p, path)):
            if child.suffix.lower() in SUPPORTED and not child.stem.upper().startswith("README"):
                files.append(child)
            else:
                skipped.append(str(child))
    return files, tuple(skipped)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _check_name(doc: Document, seen: dict[str, Path], old: DocumentRecord | None) -> None:
    if doc.source in seen:
        raise LoadError(doc.path, f"same name as {seen[doc.source]}; document names (file stems) must be unique")
    if old and Path(old.path).name != Path(doc.path).name:
        raise LoadError(doc.path, f"a document named {doc.source!r} is already indexed from {old.path}; remove it first")


def _unchanged(old, doc: Document, signature: str, existing: set[str]) -> bool:
    """Same text, chunked the same way, and all its chunks still stored: chunking would change nothing."""
    return bool(
        old and old.content_hash == doc.content_hash and old.chunking == signature
        and set(old.chunk_ids) <= existing
    )


def _record(doc: Document, sections: list[Section], chunks: list[Chunk], signature: str) -> DocumentRecord:
    return DocumentRecord(
        source=doc.source, title=doc.title, path=doc.path, kind=doc.kind, content_hash=doc.content_hash,
        chunk_ids=tuple(c.id for c in chunks), sections=len({c.section for c in chunks}),
        added_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), chunking=signature,
        metadata=dict(doc.metadata), spans=tuple(s.span for s in sections),
    )
