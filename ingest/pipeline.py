"""Ingest files into the store, incrementally and safely.

Files stream through in batches: a batch's files are loaded and chunked until about
`batch_size * 16` chunks wait to be embedded; those are embedded in length-sorted batches
across its documents and written, and the next batch begins. Memory stays flat however many
files there are. Order of writes for a batch: its new chunks first (ids are content-derived,
so writing them twice is harmless), then its documents' manifest records, then their old
chunks go. A run killed at any point leaves at worst chunks no record names, which readers
never see; every run starts by finishing half-done removals and ends by sweeping orphans, so
the next run leaves exactly what a clean ingest leaves. A batch the store fails undoes its
records. Chunks already in the store keep their vectors: only text never seen before is
embedded. Callers that share an index run this under its write lock (`Library` does), since
one run's sweep would take another's unrecorded chunks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from passage.errors import LoadError, StoreError
from passage.models import Chunk, Document, DocumentRecord, Section

from .chunking import Chunker
from .loaders import SUPPORTED, load_document
from .removal import drop, finish_removals, sweep
from .sections import split_sections

Progress = Callable[[int, int], None]  # (files done so far, files to read)


@dataclass(frozen=True)
class FileOutcome:
    path: str
    source: str
    status: str  # new | unchanged | replaced | failed
    chunks: int = 0
    embedded: int = 0
    error: str = ""


@dataclass(frozen=True)
class Skipped:
    """A file a folder walk left out, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    outcomes: tuple[FileOutcome, ...]
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
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
    to_embed: list[Chunk]


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
        outcomes: list[FileOutcome] = []
        batch: list[_Plan] = []
        seen: dict[str, Path] = {}
        for path in files:
            plan = self._plan(path, records, existing, seen, outcomes)
            if plan:
                batch.append(plan)
            if sum(len(p.to_embed) for p in batch) >= self.batch_size * 16:
                outcomes += self._write(batch, existing)
                batch = []
            if progress:
                progress(len(outcomes), len(files))
        outcomes += self._write(batch, existing)
        if progress:
            progress(len(outcomes), len(files))
        removed = self._prune(paths, records) if prune else ()
        sweep(self.store)
        order = {str(f): i for i, f in enumerate(files)}
        outcomes.sort(key=lambda o: order.get(o.path, 0))
        return IngestReport(tuple(outcomes), removed, skipped, time.perf_counter() - began)

    def _plan(self, path: Path, records, existing: set[str], seen: dict[str, Path],
              outcomes: list[FileOutcome]) -> _Plan | None:
        """What to write for one file; None (with its outcome noted) when it failed or is unchanged."""
        try:
            doc = load_document(path, self.max_bytes)
            _check_name(doc, seen, records.get(doc.source))
        except LoadError as exc:
            outcomes.append(FileOutcome(str(path), path.stem, "failed", error=exc.reason))
            return None
        seen[doc.source] = path
        old = records.get(doc.source)
        if _unchanged(old, doc, self.chunker.signature, existing):
            outcomes.append(FileOutcome(str(path), doc.source, "unchanged", len(old.chunk_ids)))
            return None
        sections = split_sections(doc)
        chunks = self.chunker.chunk(doc, sections)
        return _Plan(doc, sections, chunks, old, [c for c in chunks if c.id not in existing])

    def _write(self, plans: list[_Plan], existing: set[str]) -> list[FileOutcome]:
        """Embed and store one batch of documents: all their new chunks, then their records (each one
        commits its document), then stale chunks go. A store failure before the batch's last record
        undoes the records it wrote and its new chunks (see `_undo`), then raises."""
        if not plans:
            return []
        new = list({c.id: c for p in plans for c in p.to_embed}.values())
        committed: list[_Plan] = []
        try:
            self.store.upsert(new, self._embed(new))
            for plan in plans:
                committed.append(plan)  # before the write: a failed call may still have landed
                self.store.put_record(_record(plan.doc, plan.sections, plan.chunks, self.chunker.signature))
        except StoreError:
            self._undo(committed)
            raise
        existing.update(c.id for c in new)
        outcomes = []
        for plan in plans:
            if plan.old:
                stale = set(plan.old.chunk_ids) - {c.id for c in plan.chunks}
                self.store.delete(stale)
                existing.difference_update(stale)
            status = "replaced" if plan.old else "new"
            outcomes.append(FileOutcome(plan.doc.path, plan.doc.source, status, len(plan.chunks), len(plan.to_embed)))
        return outcomes

    def _undo(self, committed: list[_Plan]) -> None:
        """Put back the records a failed batch replaced, drop those it added, sweep its chunks.

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

    def _embed(self, chunks: list[Chunk]) -> list[list[float]]:
        """Vectors of `chunks`, in their order, embedded in length-sorted batches (less padding)."""
        order = sorted(range(len(chunks)), key=lambda i: chunks[i].tokens)
        vectors: list[list[float]] = [[] for _ in chunks]
        step = self.batch_size * 4
        for start in range(0, len(order), step):
            part = order[start : start + step]
            for i, vector in zip(part, self.embedder.embed([chunks[i].embed_text for i in part])):
                vectors[i] = vector
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


def expand(paths: Sequence[Path]) -> tuple[list[Path], tuple[Skipped, ...]]:
    """Files to ingest: named files as they are; folders' supported files, READMEs left out.

    In a folder, a symbolic link is followed only to a file inside that same folder: a link
    out of it (to /etc/passwd, say) must not put that file's text in the index. Every file
    left out but hidden ones is reported with the reason.
    """
    files, skipped = [], []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        root = path.resolve()
        for child in sorted(p for p in path.rglob("*") if not _hidden(p, path)):
            if child.is_dir() and not child.is_symlink():
                continue  # rglob walks into it
            if reason := _left_out(child, root):
                skipped.append(Skipped(str(child), reason))
            else:
                files.append(child)
    return files, tuple(skipped)


def _left_out(path: Path, root: Path) -> str:
    """Why a file found in folder `root` is not ingested, or "" when it is."""
    if path.is_symlink():
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
            return "a symbolic link that leads nowhere (a loop of links)"
        if not target.is_relative_to(root):
            return f"a symbolic link to {target}, outside {root}; not followed"
        if target.is_dir():
            return "a symbolic link to a folder; not followed"
    if not path.exists():
        return "a broken symbolic link"
    if not path.is_file():
        return "not a regular file"
    if path.suffix.lower() not in SUPPORTED:
        return f"unsupported file type {path.suffix.lower() or '(none)'!r}"
    if path.stem.upper().startswith("README"):
        return "a README, left out of folders"
    return ""


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
