"""The ingestion pipeline and the store, run against embedded Chroma and a real Chroma server."""
from pathlib import Path

import pytest

from ingest.store import open_store
from app.wiring import build_ingestor, build_library, build_services

pytestmark = pytest.mark.slow

ALPHA = "---\ntitle: Alpha Notes\n---\n# Alpha\n\nThe border river is cold in winter. Guards patrol it at night.\n\n## Crossing\n\nPeople cross the river on foot when it freezes.\n"
BETA = "Beta Report\n\nThe famine of the 1990s drove many people north into China.\n\nAftermath\n\nBorder controls were tightened after the famine.\n"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _state(store):
    records = store.records()
    named = sorted(cid for r in records for cid in r.chunk_ids)
    return {r.source: (r.content_hash, r.chunk_ids) for r in records}, sorted(store.chunk_ids()), named


def test_ingest_then_reingest_embeds_nothing(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    _write(docs, "beta.txt", BETA)
    ingestor = build_ingestor(store_settings, embedder)
    first = ingestor.ingest([docs])
    assert [(o.source, o.status) for o in first.outcomes] == [("alpha", "new"), ("beta", "new")]
    assert first.embedded == first.chunks > 0
    again = ingestor.ingest([docs])
    assert [(o.status, o.embedded) for o in again.outcomes] == [("unchanged", 0), ("unchanged", 0)]
    records, ids, named = _state(ingestor.store)
    assert ids == named and len(ids) == first.chunks


def test_changed_file_replaces_its_chunks_with_none_stale(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    path = _write(docs, "alpha.md", ALPHA)
    _write(docs, "beta.txt", BETA)
    ingestor = build_ingestor(store_settings, embedder)
    ingestor.ingest([docs])
    path.write_text(ALPHA.replace("cold in winter", "frozen from December to March"))
    report = ingestor.ingest([docs])
    assert [(o.source, o.status) for o in report.outcomes] == [("alpha", "replaced"), ("beta", "unchanged")]
    assert 0 < report.embedded < report.chunks + 1
    texts = " ".join(c.text for c in ingestor.store.chunks())
    assert "frozen from December" in texts and "cold in winter" not in texts
    _, ids, named = _state(ingestor.store)
    assert ids == named


def test_remove_and_prune(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    beta = _write(docs, "beta.txt", BETA)
    library = build_library(store_settings, lambda: embedder)
    library.add([docs])
    removed = library.remove("alpha")
    assert removed.source == "alpha"
    assert {c.source for c in library.store.chunks()} == {"beta"}
    beta.unlink()
    report = library.add([docs], prune=True)
    assert [(o.source, o.status) for o in report.outcomes] == [("alpha", "new")]
    assert report.removed == ("beta",)
    assert [r.source for r in library.records()] == ["alpha"]
    assert {c.source for c in library.store.chunks()} == {"alpha"}


def test_bad_files_fail_alone_and_leave_the_index_as_it_was(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    alpha = _write(docs, "alpha.md", ALPHA)
    ingestor = build_ingestor(store_settings, embedder)
    ingestor.ingest([docs])
    before = _state(ingestor.store)
    alpha.write_bytes(b"\x00\x01binary now")
    _write(docs, "empty.txt", "")
    _write(docs, "beta.txt", BETA)
    report = ingestor.ingest([docs])
    assert [(o.source, o.status, o.error) for o in report.outcomes] == [
        ("alpha", "failed", "binary content (NUL bytes), not text"),
        ("beta", "new", ""),
        ("empty", "failed", "empty file"),
    ]
    records, _, _ = _state(ingestor.store)
    assert records["alpha"] == before[0]["alpha"]


def test_same_name_with_another_extension_is_refused(store_settings, embedder, tmp_path):
    ingestor = build_ingestor(store_settings, embedder)
    ingestor.ingest([_write(tmp_path / "a", "alpha.md", ALPHA)])
    report = ingestor.ingest([_write(tmp_path / "b", "alpha.txt", BETA)])
    assert report.failed[0].error.startswith("a document named 'alpha' is already indexed from")


def test_retrieval_modes_and_source_filter(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    _write(docs, "beta.txt", BETA)
    assistant, library = build_services(store_settings, embedder)
    library.add([docs])
    for mode in ("hybrid", "dense", "bm25"):
        top = assistant.retriever.retrieve("When do people cross the frozen river?", 2, mode)
        assert top[0].chunk.source == "alpha", mode
    only_beta = assistant.retriever.retrieve("river", 5, "dense", source="beta")
    assert {p.chunk.source for p in only_beta} == {"beta"}


def test_store_reopens_with_the_same_content(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    build_ingestor(store_settings, embedder).ingest([docs])
    reopened = open_store(store_settings)
    assert [r.title for r in reopened.records()] == ["Alpha Notes"]
    assert {c.section for c in reopened.chunks()} == {"Alpha", "Alpha > Crossing"}


def test_orphan_chunks_left_by_an_interrupted_run_are_swept(store_settings, embedder, tmp_path):
    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    ingestor = build_ingestor(store_settings, embedder)
    ingestor.ingest([docs])
    kept = ingestor.store.chunks()
    # What a run killed between writing chunks and writing their record leaves behind.
    orphan = kept[0].__class__(**{**kept[0].__dict__, "id": "orphan-chunk", "start": 0, "end": 3})
    ingestor.store.upsert([orphan], embedder.embed([orphan.embed_text]))
    report = ingestor.ingest([docs])
    assert [o.status for o in report.outcomes] == ["unchanged"]
    assert ingestor.store.chunk_ids() == {c.id for c in kept}


def test_a_large_folder_streams_through_in_batches(tmp_path, embedder):
    """Each batch's records are written before later files are read, and the result is a clean ingest's."""
    from app.wiring import build_ingestor
    from passage.settings import Settings

    docs = tmp_path / "docs"
    for n in range(12):
        paragraphs = [f"Report {n}, part {p}. " + " ".join(f"Station {n}-{p}-{w} logged the river crossing at dawn."
                                                           for w in range(12)) for p in range(4)]
        _write(docs, f"report-{n:02}.txt", f"Report {n}\n\n" + "\n\n".join(paragraphs) + "\n")
    ingestor = build_ingestor(Settings(data_dir=tmp_path / "data", embed_batch_size=1), embedder)  # batches of ~16 chunks
    seen = []
    report = ingestor.ingest([docs], progress=lambda done, total: seen.append((done, total, len(ingestor.store.records()))))
    assert report.count("new") == 12 and report.chunks > 32
    assert seen[-1] == (12, 12, 12)
    assert all(done == stored and total == 12 for done, total, stored in seen)  # a file counts as done once stored
    assert any(0 < done < 12 for done, _, _ in seen[:-1])  # written before the last files were read
    records, ids, named = _state(ingestor.store)
    assert ids == named and len(ids) == report.chunks


def test_reads_go_page_by_page_and_miss_nothing(store_settings, embedder, tmp_path):
    """Whole-store reads come in pages (one read of ~30k rows fails in Chroma); a page of 3 rows shows the seams."""
    from ingest.store import ChromaStore, open_client

    docs = tmp_path / "docs"
    _write(docs, "alpha.md", ALPHA)
    _write(docs, "beta.txt", BETA)
    _write(docs, "gamma.txt", BETA.replace("Beta", "Gamma").replace("famine", "flood"))
    _write(docs, "delta.md", ALPHA.replace("Alpha", "Delta").replace("river", "lake"))
    build_ingestor(store_settings, embedder).ingest([docs])
    whole = open_store(store_settings)
    paged = ChromaStore(open_client(store_settings), store_settings.collection, page=3)
    ids = sorted(whole.chunk_ids())
    assert len(ids) > 6 and sorted(paged.chunk_ids()) == ids
    assert sorted(c.id for c in paged.chunks()) == ids
    assert sorted(c.id for c in paged.chunks(ids[1:])) == ids[1:]
    assert [r.source for r in paged.records()] == ["alpha", "beta", "delta", "gamma"]
