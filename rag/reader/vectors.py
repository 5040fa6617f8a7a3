"""Sentence vectors, embedded once: an in-memory map in front of an SQLite file in the cache dir.

The reader embeds every candidate sentence and its context; the same sentences come back
question after question, so each text is embedded once per index, not once per question.
Vectors are stored as float16 (384 numbers, 768 bytes), keyed by a hash of model and text, and
a fresh vector is rounded to float16 before it is used too: a sentence reads the same whether it
was embedded now or by an earlier process, so an answer does not depend on the cache's state.
If the file cannot be opened or written (read-only or full disk) the cache keeps to memory
and logs one warning.
"""
from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)
MEMORY_LIMIT = 200_000
STORED = np.float16  # the precision kept on disk, and so the one every vector is used at


class VectorCache:
    """Usage: `VectorCache(embedder, cache_dir / "sentences.sqlite").embed(["a", "b"])` -> (2, dim) array."""

    def __init__(self, embedder, path: Path | None = None):
        self.embedder = embedder
        self.path = path
        self._memory: dict[str, np.ndarray] = {}
        self._db: sqlite3.Connection | None = None
        self._disk_ok = path is not None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing:
            self._memory.update(self._read(missing))
        todo = {k: t for k, t in zip(keys, texts) if k not in self._memory}
        if todo:
            vectors = np.asarray(self.embedder.embed(list(todo.values())), dtype=STORED).astype(np.float32)
            fresh = dict(zip(todo, vectors))
            self._memory.update(fresh)
            self._write(fresh)
        if len(self._memory) > MEMORY_LIMIT:
            keep = set(keys)
            self._memory = {k: v for k, v in self._memory.items() if k in keep}
        return np.stack([self._memory[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def _key(self, text: str) -> str:
        return hashlib.blake2b(f"{self.embedder.name}\n{text}".encode("utf-8"), digest_size=16).hexdigest()

    def _connect(self) -> sqlite3.Connection | None:
        if not self._disk_ok:
            return None
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self.path), timeout=5, check_same_thread=False)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            except (sqlite3.Error, OSError) as exc:
                self._give_up(exc)
        return self._db

    def _read(self, keys: list[str]) -> dict[str, np.ndarray]:
        db = self._connect()
        if db is None:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((k, np.frombuffer(v, dtype=STORED).astype(np.float32)) for k, v in rows)
        except sqlite3.Error as exc:
            self._give_up(exc)
        return found

    def _write(self, fresh: dict[str, np.ndarray]) -> None:
        db = self._connect()
        if db is None:
            return
        try:
            with db:
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)",
                               [(k, v.astype(STORED).tobytes()) for k, v in fresh.items()])
        except sqlite3.Error as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        log.warning("sentence vector cache %s unusable (%s); keeping vectors in memory only", self.path, exc)
        self._disk_ok = False
        self._db = None
