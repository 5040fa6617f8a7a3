"""The Chroma store: chunks with their vectors, and one manifest record per document.

Embedded (`PersistentClient` in the data dir) and server (`HttpClient`) Chroma go through
the same `ChromaStore`; `open_store(settings)` picks one. Manifest records live in a second
collection beside the chunks, so a server holds the whole index and any machine can use it.
That collection also holds the index's version: every write through `ChromaStore` stamps it
anew, so any process notices a change with one small read instead of listing every chunk.
An embedded client keeps the vector index it loaded and never sees another process's writes
(a search limited to a document added since fails with "Error finding id"), so a store that
reads a version it did not write itself reopens its embedded client first.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Iterable, Protocol, Sequence
from urllib.parse import urlparse

from passage.errors import NoIndexError, PassageError, StoreError, one_line
from passage.models import Chunk, DocumentRecord, Passage, SectionSpan
from passage.settings import Settings

from .chroma_files import SQLITE, keep_log, mend
from .faults import Guarded, Where, store_error
from .gate import Gate, Gated
from .lock import LOCK_FILE, FileLock

OPEN_LOCK_FILE = "open.lock"
_RECORDS_SUFFIX = "-documents"
_BODY_FIELDS = ("chunk_ids", "metadata", "spans")  # kept in the record's JSON body, not its metadata
_VERSION_ID = "passage/version"  # no document can have this name: names are file stems, without "/"


class Store(Protocol):
    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None: ...
    def delete(self, ids: Iterable[str]) -> None: ...
    def chunk_ids(self) -> set[str]: ...
    def count(self) -> int: ...
    def chunks(self, ids: Sequence[str] | None = None) -> list[Chunk]: ...
    def query(self, vector: Sequence[float], k: int, source: str | None = None) -> list[Passage]: ...
    def put_record(self, record: DocumentRecord) -> None: ...
    def delete_record(self, source: str) -> None: ...
    def record(self, source: str) -> DocumentRecord | None: ...
    def records(self) -> list[DocumentRecord]: ...
    def version(self) -> str: ...


def open_client(settings: Settings):
    """A Chroma client: the server at `chroma_url` if set, else embedded in the data dir.

    An embedded index keeps its write log and has a vector index damaged by a failed write
    rebuilt first (chroma_files.py). Any failure is a one-line StoreError naming the store.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    where = store_location(settings)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            token = settings.chroma_token.get_secret_value()
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings, tenant=settings.chroma_tenant,
                database=settings.chroma_database, headers={"Authorization": f"Bearer {token}"} if token else None,
            )
            client.heartbeat()
            return client
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        mend(settings.chroma_dir, FileLock(settings.data_dir / LOCK_FILE))
        opening = FileLock(settings.data_dir / OPEN_LOCK_FILE)
        try:  # two processes creating a new index at once race on Chroma's schema
            opening.acquire("open")
        except OSError:  # a read-only data dir: nothing can be created there anyway
            opening = None
        try:
            client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
            keep_log(settings.chroma_dir)
        finally:
            if opening is not None:
                opening.release()
        return client
    except PassageError:
        raise
    except Exception as exc:  # chromadb raises many types for "cannot connect/open"
        if settings.chroma_url:
            raise StoreError(f"cannot open the Chroma store at {where}: {one_line(exc)}") from None
        raise store_error(exc, where) from None


def open_store(settings: Settings, create: bool = True) -> "ChromaStore":
    """The store; with `create=False` (commands that only read or remove) a missing index is an
    error and nothing is created: "no index at DIR; run `passage ingest corpus/`"."""
    where = store_location(settings)
    if not create and not settings.chroma_url and not (settings.chroma_dir / SQLITE).is_file():
        raise NoIndexError(str(settings.data_dir))
    client = Guarded(open_client(settings), where)
    if not create and settings.chroma_url and settings.collection not in {c.name for c in client.list_collections()}:
        raise NoIndexError(f"{where} (collection {settings.collection!r})")
    # A server's clients all see one index; an embedded client is reopened after another process wrote.
    reopen = None if settings.chroma_url else lambda: Guarded(open_client(settings), where)
    return ChromaStore(client, settings.collection, reopen=reopen)


def store_location(settings: Settings) -> Where:
    return Where(url=settings.chroma_url) if settings.chroma_url else Where(folder=settings.chroma_dir)


class ChromaStore:
    """Usage: `store = open_store(settings); store.query(vector, k=5)`.

    `reopen` (embedded Chroma) gives a new client; it replaces the current one, closed first,
    when `version()` reads a stamp this store did not write.
    """

    def __init__(self, client, name: str, page: int = 5000, reopen: Callable[[], Any] | None = None):
        self._name = name
        self._reopen = reopen
        self._gate = Gate()
        self._open: dict[str, Any] = {}
        self._attach(client)
        self._chunks = Gated(self._gate, lambda: self._open["chunks"])
        self._records = Gated(self._gate, lambda: self._open["records"])
        self._batch = max(1, min(client.get_max_batch_size(), 1000))
        self._page = page  # rows per read: one read of ~30k rows or more fails ("too many SQL variables")

    def _attach(self, client) -> None:
        self._client = client
        self._open = {"chunks": self._collection(self._name), "records": self._collection(self._name + _RECORDS_SUFFIX)}
        self._seen = _stamp_of(self._open["records"])  # the last version this store read or wrote

    def _collection(self, name: str):
        try:
            return self._client.get_or_create_collection(
                name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
            )
        except Exception as exc:
            raise StoreError(f"cannot open collection {name!r}: {one_line(exc)}") from None

    def upsert(self, chunks: Sequence[Chunk], vectors: Sequence[Sequence[float]]) -> None:
        for i in range(0, len(chunks), self._batch):
            part = chunks[i : i + self._batch]
            self._chunks.upsert(
                ids=[c.id for c in part], embeddings=[list(v) for v in vectors[i : i + self._batch]],
                documents=[c.text for c in part], metadatas=[_chunk_metadata(c) for c in part],
            )
        if chunks:
            self._stamp()

    def delete(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self._batch):
            self._chunks.delete(ids=ids[i : i + self._batch])
        if ids:
            self._stamp()

    def chunk_ids(self) -> set[str]:
        return set(self._get(self._chunks, [])["ids"])

    def count(self) -> int:
        return self._chunks.count()

    def chunks(self, ids: Sequence[str] | None = None) -> list[Chunk]:
        if ids is not None and not ids:
            return []
        got = self._get(self._chunks, ["documents", "metadatas"], ids)
        return [_chunk(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])]

    def _get(self, collection, include: list[str], ids: Sequence[str] | None = None) -> dict[str, list]:
        """The rows named by `ids` (default: every row), read a page at a time."""
        out: dict[str, list] = {"ids": [], **{field: [] for field in include}}
        offset = 0
        while True:
            if ids is None:
                got = collection.get(limit=self._page, offset=offset, include=include)
            else:
                got = collection.get(ids=list(ids[offset : offset + self._page]), include=include)
            for field in out:
                out[field] += got[field]
            offset += self._page
            if (len(got["ids"]) < self._page) if ids is None else offset >= len(ids):
                return out

    def query(self, vector: Sequence[float], k: int, source: str | None = None) -> list[Passage]:
        # Chroma 1.x returns what there is when asked for more (and nothing from an empty
        # collection), so no count is read first: at 100k chunks that read cost 19 ms a query.
        got = self._chunks.query(
            query_embeddings=[list(vector)], n_results=k, where={"source": source} if source else None,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        return [Passage(_chunk(i, d, m), 1.0 - dist) for i, d, m, dist in rows]

    def put_record(self, record: DocumentRecord) -> None:
        meta = {k: v for k, v in record.__dict__.items() if k not in _BODY_FIELDS}
        body = json.dumps({"chunk_ids": list(record.chunk_ids), "metadata": dict(record.metadata),
                           "spans": [[s.label, s.start, s.end] for s in record.spans]})
        self._stamp([record.source], [body], [meta])

    def delete_record(self, source: str) -> None:
        self._records.delete(ids=[source])
        self._stamp()

    def record(self, source: str) -> DocumentRecord | None:
        """The record of document `source`, None when there is none."""
        if source == _VERSION_ID:
            return None
        got = self._records.get(ids=[source], include=["documents", "metadatas"])
        return _record(got["documents"][0], got["metadatas"][0]) if got["ids"] else None

    def records(self) -> list[DocumentRecord]:
        got = self._get(self._records, ["documents", "metadatas"])
        rows = zip(got["ids"], got["documents"], got["metadatas"])
        return sorted((_record(d, m) for i, d, m in rows if i != _VERSION_ID), key=lambda r: r.source)

    def version(self) -> str:
        """Changes with every write through any `ChromaStore` on this index: `"1764190000123456789-9f2c..."`,
        or "0" for an index no write has stamped yet. A version another process wrote reopens an
        embedded client, so that every read after this one sees that write."""
        stamp = _stamp_of(self._records)
        if self._reopen is not None and stamp != self._seen:
            self._reopen_client(stamp)
        return stamp

    def _reopen_client(self, stamp: str) -> None:
        """Close the client and open a new one, while no call is using it (Chroma shares one client per
        folder within a process, so the old one must be closed before the new one loads the index afresh)."""
        with self._gate.alone():
            if self._seen == stamp:  # another thread has just reopened it
                return
            self._client.close()
            self._attach(self._reopen())

    def _stamp(self, ids: Sequence[str] = (), documents: Sequence[str] = (), metadatas: Sequence[dict] = ()) -> None:
        """A new version after a write, upserted with these manifest rows in one call (each call waits for
        the disk). The stamp is the time, for people, and a random part, so two writers never give the
        same stamp and no write goes unnoticed."""
        stamp = f"{time.time_ns()}-{uuid.uuid4().hex[:12]}"
        self._records.upsert(ids=[*ids, _VERSION_ID], embeddings=[[1.0]] * (len(ids) + 1), documents=[*documents, ""],
                             metadatas=[*metadatas, {"stamp": stamp}])
        self._seen = stamp  # this client wrote it, so it already sees it


def _stamp_of(records) -> str:
    got = records.get(ids=[_VERSION_ID], include=["metadatas"])
    return got["metadatas"][0]["stamp"] if got["ids"] else "0"


def _chunk_metadata(chunk: Chunk) -> dict:
    return {
        "source": chunk.source, "title": chunk.title, "section": chunk.section, "start": chunk.start,
        "end": chunk.end, "page": chunk.page, "tokens": chunk.tokens, "prefix": chunk.prefix,
    }


def _chunk(chunk_id: str, text: str, meta: dict) -> Chunk:
    return Chunk(
        id=chunk_id, source=meta["source"], title=meta["title"], section=meta["section"], text=text,
        start=int(meta["start"]), end=int(meta["end"]), page=meta.get("page"), tokens=int(meta["tokens"]),
        prefix=meta.get("prefix", ""),
    )


def _record(body: str, meta: dict) -> DocumentRecord:
    data = json.loads(body)
    spans = tuple(SectionSpan(label, int(start), int(end)) for label, start, end in data.get("spans", ()))
    return DocumentRecord(chunk_ids=tuple(data["chunk_ids"]), metadata=data.get("metadata", {}), spans=spans, **meta)
