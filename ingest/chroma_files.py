"""Embedded Chroma's files: keep its write log whole, and rebuild a vector index a failed write damaged.

Chroma saves each collection's HNSW vector index in a segment folder, with its id map in
`index_metadata.pickle`. A save that fails halfway (the disk filled up) leaves that file
empty or cut short, and from then on every read fails with "Error deserializing pickle
file". Chroma rebuilds a missing segment folder from its write log (the `embeddings_queue`
table), but by default purges the log up to the last save, so a deleted segment would lose
vectors. Here the log is kept whole (Chroma's `automatically_purge` off, set in its own
configuration table, which it reads before every purge), so a damaged segment can always be
deleted and rebuilt. The cost is disk space: every chunk version ever written stays in the
log, about 2.4 KB per chunk version (vector, text and metadata).

Simplified: damage is detected by parsing the pickle's opcodes (never unpickling it), and for
files over 256 KB (about 9,000 chunks) only by their first and last byte, which a file cut short
almost always gets wrong, so that every open stays cheap.
"""
from __future__ import annotations

import contextlib
import json
import pickletools
import shutil
import sqlite3
from pathlib import Path
from typing import Iterator

from passage.errors import BusyError, StoreError

SQLITE = "chroma.sqlite3"
_PICKLE = "index_metadata.pickle"
_PARSE_UP_TO = 256 * 1024


def keep_log(chroma_dir: Path) -> None:
    """Turn Chroma's log purging off for this index (a no-op when it is already off)."""
    with _connect(chroma_dir) as db:
        row = db.execute("SELECT config_json_str FROM embeddings_queue_config WHERE id = 1").fetchone()
        if row is None:
            return
        config = json.loads(row[0])
        if config.get("automatically_purge") is not False:
            config["automatically_purge"] = False
            db.execute("UPDATE embeddings_queue_config SET config_json_str = ? WHERE id = 1", (json.dumps(config),))


def damaged_segments(chroma_dir: Path) -> list[Path]:
    """Segment folders whose id map cannot be read back."""
    if not chroma_dir.is_dir():
        return []
    return sorted(d for d in chroma_dir.iterdir() if (d / _PICKLE).is_file() and not _complete(d / _PICKLE))


def mend(chroma_dir: Path, lock) -> list[Path]:
    """`repair` under the index's write lock, if any segment is damaged and no writer is at work
    (a writer may be saving the very file that looks damaged); returns the folders rebuilt."""
    if not damaged_segments(chroma_dir):
        return []
    try:
        lock.acquire("repair", wait=False)
    except BusyError:
        return []
    try:
        return repair(chroma_dir)
    finally:
        lock.release()


def repair(chroma_dir: Path) -> list[Path]:
    """Delete damaged segment folders, which Chroma then rebuilds from the log; returns them.

    Raises StoreError when the log was purged (the index predates keeping it), since a
    rebuild would then lose vectors.
    """
    damaged = damaged_segments(chroma_dir)
    if damaged and not _log_is_whole(chroma_dir):
        raise StoreError(f"the vector index in {chroma_dir} is damaged (a write failed, e.g. on a full disk) and its "
                         "log was purged, so it cannot be rebuilt; delete that folder and run `passage ingest` again")
    for folder in damaged:
        shutil.rmtree(folder)
    return damaged


def _complete(pickle: Path) -> bool:
    """Whether the file is a whole pickle: it opens with PROTO, ends with STOP, and (when small) its opcodes parse."""
    try:
        data = pickle.read_bytes()
        if data[:1] != b"\x80" or data[-1:] != b".":
            return False
        return len(data) > _PARSE_UP_TO or [op.name for op, _, _ in pickletools.genops(data)][-1] == "STOP"
    except Exception:  # a cut-short file raises ValueError; anything unreadable counts as damaged
        return False


def _log_is_whole(chroma_dir: Path) -> bool:
    """The log still starts at its first entry (nothing was ever purged)."""
    with _connect(chroma_dir) as db:
        return db.execute("SELECT 1 FROM embeddings_queue WHERE seq_id = 1").fetchone() is not None


@contextlib.contextmanager
def _connect(chroma_dir: Path) -> Iterator[sqlite3.Connection]:
    """Chroma's own database (committed and closed on leaving); waits while Chroma writes it."""
    db = sqlite3.connect(chroma_dir / SQLITE, timeout=30)
    try:
        with db:
            yield db
    finally:
        db.close()
