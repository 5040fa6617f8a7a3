"""Removing documents so that a kill at any point either did nothing or is finished later,
and sweeping chunks no record names. Writers call these under the index's write lock.

A removal writes a tombstone first (the record with `removing=True`), then deletes the
chunks, then the record. Readers skip tombstoned documents, so a half-done removal is
already invisible; the next removal or ingest finishes it (`finish_removals`).
"""
from __future__ import annotations

import dataclasses

from passage.models import DocumentRecord

from .store import Store


def drop(store: Store, record: DocumentRecord) -> None:
    """Remove a document: tombstone, chunks, record; safe to run again on a tombstone."""
    if not record.removing:
        store.put_record(dataclasses.replace(record, removing=True))
    store.delete(record.chunk_ids)
    store.delete_record(record.source)


def finish_removals(store: Store) -> list[str]:
    """Complete every removal a killed process left half done; returns their documents' names."""
    pending = [r for r in store.records() if r.removing]
    for record in pending:
        drop(store, record)
    return [r.source for r in pending]


def sweep(store: Store) -> int:
    """Delete chunks that no record names (left by an interrupted or failed run)."""
    named = {cid for r in store.records() for cid in r.chunk_ids}
    orphans = store.chunk_ids() - named
    store.delete(orphans)
    return len(orphans)


def live(records: list[DocumentRecord]) -> list[DocumentRecord]:
    """The records readers see: tombstones left out."""
    return [r for r in records if not r.removing]
