"""The documents in the index, apart from answering: list them, add files, remove one, and
read the full text of one of their sections.

Usage: `Library(store, make_ingestor, max_bytes, lock=open_lock(settings)).remove("iccpr")`.
The ingestor (and with it the embedding model) is built only when files are added, so listing
and removing never load the model. Adding and removing hold the index's write lock (one
writer at a time, across processes and machines; `on_wait` hears once whom a writer waits
for); listing and reading never take it and never see a half-removed document.
`on_change` runs after every add and removal (the retriever reloads its BM25 index).
`finish_uploads` puts right, on start, what a crash left in the uploads folder.
"""
from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from passage.errors import LoadError, NotFoundError
from passage.models import Chunk, DocumentRecord

from .loaders import load_document
from .lock import Waiting, WriteLock, holding
from .pipeline import Ingestor, IngestReport, Progress
from .removal import drop, finish_removals, live, sweep
from .sections import split_sections
from .store import Store


class Library:
    def __init__(self, store: Store, make_ingestor: Callable[[], Ingestor], max_bytes: int,
                 on_change: Callable[[], None] | None = None, *, lock: WriteLock, on_wait: Waiting | None = None):
        self.store = store
        self._make_ingestor = make_ingestor
        self._ingestor: Ingestor | None = None
        self.max_bytes = max_bytes
        self.on_change = on_change
        self.lock = lock
        self.on_wait = on_wait

    def records(self) -> list[DocumentRecord]:
        """Every document's record, by name (documents being removed left out)."""
        return live(self.store.records())

    def record(self, source: str) -> DocumentRecord:
        """The record of document `source`; NotFoundError lists the indexed names when there is none."""
        record = self.store.record(source)
        if record is None or record.removing:
            raise self._not_found(source)
        return record

    def add(self, paths: Sequence[Path], progress: Progress | None = None, prune: bool = False,
            wait: bool = True, prepare: Callable[[], None] | None = None) -> IngestReport:
        """Add or update the files (folders: their supported files); see `Ingestor.ingest`.

        Waits for another writer to finish (or, with `wait=False`, raises BusyError). `prepare` runs
        under the write lock before the files are read (uploads move into their folder there, so
        that `finish_uploads` in another process never takes them for leftovers).
        """
        if self._ingestor is None:
            self._ingestor = self._make_ingestor()  # the model loads before the lock is taken
        with holding(self.lock, "ingest", wait, self.on_wait):
            if prepare:
                prepare()
            report = self._ingestor.ingest(paths, progress=progress, prune=prune)
        self._changed()
        return report

    def finish_uploads(self, folder: Path) -> FinishedUploads:
        """Put right what a crash left in the uploads folder `folder`, holding the write lock.

        Every file in it belongs to a document: a file no document names is an upload that never
        finished (its request got no reply) or the file of a removed document, and is deleted, as
        are folders (staging left by a crash); a document's file written after it was indexed is a
        replacement cut off, and is ingested. Nothing to do: no lock taken, nothing loaded.
        """
        if not any(self._leftovers(folder)):
            return FinishedUploads((), ())
        with holding(self.lock, "ingest", True, self.on_wait):
            deleted, changed = self._leftovers(folder)
            for path in deleted:
                shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink(missing_ok=True)
            if changed:
                if self._ingestor is None:
                    self._ingestor = self._make_ingestor()
                report = self._ingestor.ingest(changed)
                for outcome in report.failed:
                    Path(outcome.path).unlink(missing_ok=True)
        if changed:
            self._changed()
        return FinishedUploads(tuple(deleted), tuple(changed))

    def _leftovers(self, folder: Path) -> tuple[list[Path], list[Path]]:
        """(paths in `folder` no document names, files of documents changed since they were indexed)."""
        if not folder.is_dir():
            return [], []
        records = {Path(r.path).resolve(): r for r in self.records()}
        deleted, changed = [], []
        for path in sorted(folder.iterdir()):
            record = records.get(path.resolve()) if path.is_file() and not path.is_symlink() else None
            if record is None:
                deleted.append(path)
            elif path.stat().st_mtime > datetime.fromisoformat(record.added_at).timestamp() + 1:  # added_at has whole seconds
                changed.append(path)
        return deleted, changed

    def remove(self, source: str, wait: bool = True) -> DocumentRecord:
        """Remove a document and its chunks; returns the record it had.

        A removal a killed process left half done is finished here, for this document or any other.
        """
        with holding(self.lock, "remove", wait, self.on_wait):
            record = self.store.record(source)
            if record is not None:
                drop(self.store, record)
            finish_removals(self.store)
            sweep(self.store)
        if record is None:
            raise self._not_found(source)
        self._changed()
        return dataclasses.replace(record, removing=False)

    def section_text(self, source: str, section: str) -> str:
        """The full text of the section labelled `section` (its heading path) of document `source`.

        Read from the document itself, re-loaded from its file, while the file's content hash
        still matches the record; sections sharing a label are joined by a blank line. When the
        file is gone or changed, the section is stitched from its stored chunks instead, whose
        offsets are exact but whose white space between two non-overlapping chunks is guessed.
        """
        record = self.record(source)
        try:
            doc = load_document(Path(record.path), self.max_bytes)
        except LoadError:
            doc = None
        if doc is not None and doc.content_hash == record.content_hash:
            spans = record.spans or tuple(s.span for s in split_sections(doc))
            found = [doc.text[s.start:s.end] for s in spans if s.label == section]
            if found:
                return "\n\n".join(found)
        chunks = [c for c in self.store.chunks(record.chunk_ids) if c.section == section]
        if not chunks:
            raise NotFoundError(f"{source!r} has no section {section!r}")
        return stitch(chunks)

    def _not_found(self, source: str) -> NotFoundError:
        known = ", ".join(r.source for r in self.records()) or "none"
        return NotFoundError(f"no document {source!r}; indexed: {known}")

    def _changed(self) -> None:
        if self.on_change:
            self.on_change()


@dataclasses.dataclass(frozen=True)
class FinishedUploads:
    """What `Library.finish_uploads` did: the paths it deleted and the files it ingested again."""

    deleted: tuple[Path, ...]
    ingested: tuple[Path, ...]


def stitch(chunks: Sequence[Chunk]) -> str:
    """One text from chunks of a section, by their offsets; overlaps are kept once and a gap
    becomes one space (a gap of one character) or up to two line breaks."""
    pieces = sorted(chunks, key=lambda c: c.start)
    text, pos = "", pieces[0].start
    for piece in pieces:
        if piece.end <= pos and text:
            continue
        if piece.start > pos:
            text += " " if piece.start - pos == 1 else "\n" * min(piece.start - pos, 2)
            text += piece.text
        else:
            text += piece.text[pos - piece.start:]
        pos = piece.end
    return text
