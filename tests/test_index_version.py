"""The index's version: every write changes it, reads do not, and a retriever notices another
process's ingest at its next query after the recheck interval, without listing every chunk."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.wiring import build_assistant
from ingest.store import open_store
from passage.settings import Settings
from rag.bm25 import index_key

pytestmark = pytest.mark.slow
ENTRY = "import sys; sys.argv = ['passage', *sys.argv[1:]]; from app.cli import main; main()"
NOTE = "Ferry Notes\n\nThe quokka ferry leaves the harbour at dawn every Tuesday.\n"


def test_every_write_changes_the_version_and_reads_do_not(store_settings, embedder, tmp_path):
    from app.wiring import build_ingestor

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.txt").write_text(NOTE)
    store = open_store(store_settings)
    seen = [store.version()]
    assert seen == ["0"]
    build_ingestor(store_settings, embedder, store).ingest([docs])
    seen.append(store.version())
    record = store.records()[0]
    chunks = store.chunks()
    store.query(embedder.embed(["ferry"])[0], 3)
    store.record("ferry")
    assert store.version() == seen[-1]  # reads leave it alone
    for write in (lambda: store.upsert(chunks, embedder.embed([c.embed_text for c in chunks])),
                  lambda: store.put_record(record), lambda: store.delete_record("ferry"),
                  lambda: store.delete([c.id for c in chunks])):
        write()
        seen.append(store.version())
    assert len(set(seen)) == len(seen) == 6
    assert open_store(store_settings).version() == seen[-1]  # it is stored with the index
    assert store.records() == [] and store.record("passage/version") is None


def test_another_process_ingest_is_seen_at_the_next_query_after_the_recheck(fresh_data_dir, embedder, tmp_path):
    assistant = build_assistant(Settings(data_dir=fresh_data_dir), embedder)
    retriever = assistant.retriever
    assert retriever.retrieve("quokka ferry", 3, "bm25") == []
    before = index_key(retriever.store)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.txt").write_text(NOTE)
    subprocess.run([sys.executable, "-c", ENTRY, "ingest", str(docs), "--data-dir", str(fresh_data_dir)],
                   check=True, capture_output=True, timeout=300)
    assert index_key(retriever.store) != before
    time.sleep(1.1)  # the recheck interval
    top = retriever.retrieve("quokka ferry", 3, "bm25")
    assert [p.chunk.source for p in top] == ["ferry"]


class RecordingStore:
    """A real store that notes each call that reads every chunk or every id."""

    def __init__(self, store):
        self._store = store
        self.full_reads: list[str] = []

    def __getattr__(self, name):
        return getattr(self._store, name)

    def chunk_ids(self):
        self.full_reads.append("chunk_ids")
        return self._store.chunk_ids()

    def chunks(self, ids=None):
        if ids is None:
            self.full_reads.append("chunks")
        return self._store.chunks(ids)


def test_queries_never_read_every_chunk_once_bm25_is_loaded(ingested_dir, embedder):
    settings = Settings(data_dir=ingested_dir)
    store = RecordingStore(open_store(settings))
    assistant = build_assistant(settings, embedder, store)
    assistant.retriever.bm25()
    store.full_reads.clear()
    for i, question in enumerate(("How old was Yeonmi Park?", "What does Article 13 say?", "Where is Hyesan?")):
        assistant.ask(question, source="iccpr" if i == 1 else None)
        time.sleep(0.6)  # past the recheck interval every other query
    assert store.full_reads == []
