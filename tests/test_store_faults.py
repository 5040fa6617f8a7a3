"""Store faults are one-line messages and leave the index as it was: a Chroma server killed
mid-command, a full disk (a real 20 MB tmpfs), a vector index a failed write damaged, a BM25
cache folder that cannot be written."""
import errno
import json
import logging
import random
import re
import shutil
import sqlite3
import subprocess

import pytest

from app.wiring import build_library
from ingest.chroma_files import damaged_segments, repair
from ingest.faults import Where, store_error
from ingest.store import open_store
from passage.errors import StoreError
from passage.models import Chunk, DocumentRecord
from passage.settings import Settings
from tests import cli_driver
from tests.servers import chroma_command, free_port, serve

QUESTION = "How old was Yeonmi Park when she escaped?"
ALPHA = "# Alpha\n\nThe border river is cold in winter.\n\n## Crossing\n\nPeople cross the river on foot when it freezes.\n"
BETA = "Beta Report\n\nThe famine of the 1990s drove many people north into China.\n"


def _state(settings: Settings):
    store = open_store(settings)
    return {r.source: (r.content_hash, r.chunk_ids) for r in store.records()}, store.chunk_ids()


# --- a Chroma server that stops mid-command ---------------------------------------------------

@pytest.fixture
def own_server(tmp_path):
    """A Chroma server this test may kill and start again on the same port and folder."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = chroma_command(tmp_path / "server-db", port)

    def start():
        return serve(command, f"{url}/api/v2/heartbeat", tmp_path / "server.log")

    return url, start


def _lost(url: str) -> str:
    return f"error: lost the Chroma server at {url}; check that it is running and reachable, then run the command again\n"


@pytest.mark.slow
def test_a_server_killed_mid_ingest_is_one_line_and_the_index_stays_as_it_was(own_server, tmp_path, embedder):
    url, start = own_server
    settings = Settings(data_dir=tmp_path / "data", chroma_url=url)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text(ALPHA)
    (docs / "beta.txt").write_text(BETA)
    with start() as server:
        before = (tmp_path / "before")
        before.mkdir()
        (before / "gamma.txt").write_text("Gamma\n\nBrokers arrange passage through China.\n")
        build_library(settings, lambda: embedder).add([before])
        expected = _state(settings)
        proc = cli_driver.start("ingest", str(docs), "--chroma-url", url, "--data-dir", str(settings.data_dir),
                                pause_at="upsert:1", pause_dir=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cli_driver.wait_for(tmp_path / "paused", proc)  # alpha's chunks are written, beta's and the records not
        server.kill()
        server.wait()
        (tmp_path / "go").touch()
        out, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (2, _lost(url))
    with start():
        records, stored = _state(settings)
        assert records == expected[0] and stored > expected[1]  # alpha's chunks: orphans no record names
        listed = json.loads(cli_driver.run("docs", "list", "--json", "--chroma-url", url, "--data-dir", str(settings.data_dir)).stdout)
        assert [d["source"] for d in listed] == ["gamma"]
        again = cli_driver.run("ingest", str(docs), "--chroma-url", url, "--data-dir", str(settings.data_dir))
        assert again.returncode == 0 and "2 new, 0 unchanged" in again.stdout
        records, stored = _state(settings)
        assert stored == {c for _, ids in records.values() for c in ids}


@pytest.mark.slow
def test_a_server_killed_mid_ask_is_one_line(own_server, tmp_path, embedder):
    url, start = own_server
    settings = Settings(data_dir=tmp_path / "data", chroma_url=url)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "alpha.md").write_text(ALPHA)
    with start() as server:
        build_library(settings, lambda: embedder).add([tmp_path / "docs"])
        proc = cli_driver.start("ask", "When do people cross the river?", "--chroma-url", url, "--data-dir",
                                str(settings.data_dir), pause_at="records:1", pause_dir=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        cli_driver.wait_for(tmp_path / "paused", proc)  # the question is being searched
        server.kill()
        server.wait()
        (tmp_path / "go").touch()
        out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out, err) == (2, "", _lost(url))


# --- a full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 20 MB tmpfs (needs root and permission to mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); the full-disk test needs root")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)  # lazy: this process's Chroma client still has files open


def _fill(mount, leave_kb: int):
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    subprocess.run(["fallocate", "-l", str(free - leave_kb * 1024), str(filler)], check=True)
    return filler


@pytest.mark.slow
def test_a_full_disk_fails_in_one_line_and_the_index_works_once_space_is_freed(small_disk, ingested_dir, corpus_files, tmp_path):
    data_dir = small_disk / "data"
    shutil.copytree(ingested_dir, data_dir)
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(corpus_files / "leaving-north-korea.txt", extra / "field-notes.txt")
    answer_before = json.loads(cli_driver.run("ask", QUESTION, "--json", "--data-dir", str(ingested_dir)).stdout)
    filler = _fill(small_disk, leave_kb=150)
    proc = cli_driver.run("ingest", str(extra), "--data-dir", str(data_dir))
    assert proc.returncode == 2 and proc.stdout == ""
    assert re.fullmatch(rf"error: the disk holding {re.escape(str(data_dir / 'chroma'))} is full \(\d+\.\d MB free\); "
                        r"free some space and run the command again\n", proc.stderr), proc.stderr
    filler.unlink()

    listed = json.loads(cli_driver.run("docs", "list", "--json", "--data-dir", str(data_dir)).stdout)
    assert len(listed) == 7 and "field-notes" not in {d["source"] for d in listed}
    answer = json.loads(cli_driver.run("ask", QUESTION, "--json", "--data-dir", str(data_dir)).stdout)
    assert (answer["answer"], answer["citations"]) == (answer_before["answer"], answer_before["citations"])
    again = cli_driver.run("ingest", str(corpus_files), "--data-dir", str(data_dir))
    assert "0 new, 7 unchanged, 0 replaced, 0 removed, 0 failed" in again.stdout
    assert _state(Settings(data_dir=data_dir)) == _state(Settings(data_dir=ingested_dir))


def _synthetic(store, n: int) -> None:
    """`n` chunks with random 384-d vectors and a record naming them: enough for Chroma to save its vector index."""
    rnd = random.Random(0)
    chunks = [Chunk(id=f"c{i:05d}", source="synthetic", title="Synthetic", section="S", text=f"word {i}", start=i,
                    end=i + 1, page=None, tokens=3, prefix="") for i in range(n)]
    vectors = [[rnd.uniform(-1, 1) for _ in range(384)] for _ in chunks]
    for i in range(0, n, 250):
        store.upsert(chunks[i : i + 250], vectors[i : i + 250])
    store.put_record(DocumentRecord(source="synthetic", title="Synthetic", path="synthetic.txt", kind="txt", content_hash="h",
                                    chunk_ids=tuple(c.id for c in chunks), sections=1, added_at="2026-01-01", chunking="x"))


@pytest.mark.slow
def test_a_vector_index_damaged_by_a_failed_write_is_rebuilt_from_the_log(tmp_path):
    data_dir = tmp_path / "data"
    _synthetic(open_store(Settings(data_dir=data_dir)), 1200)
    pickles = list((data_dir / "chroma").glob("*/index_metadata.pickle"))
    assert len(pickles) == 1
    pickles[0].write_bytes(pickles[0].read_bytes()[:100])  # what a write cut short by a full disk leaves
    assert damaged_segments(data_dir / "chroma") == [pickles[0].parent]
    proc = cli_driver.run("ask", "word 7", "--mode", "dense", "--json", "--data-dir", str(data_dir))
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["retrieved"]) == 5
    assert damaged_segments(data_dir / "chroma") == []
    assert len(_state(Settings(data_dir=data_dir))[1]) == 1200


@pytest.mark.slow
def test_a_damaged_vector_index_whose_log_was_purged_is_reported_not_rebuilt(tmp_path):
    import chromadb

    folder = tmp_path / "chroma"
    client = chromadb.PersistentClient(path=str(folder), settings=chromadb.config.Settings(anonymized_telemetry=False))
    collection = client.get_or_create_collection("passage", embedding_function=None)
    rnd = random.Random(0)
    for i in range(0, 1200, 300):  # Chroma's default: the log is purged once the vector index is saved
        collection.add(ids=[f"x{j}" for j in range(i, i + 300)], embeddings=[[rnd.random() for _ in range(8)] for _ in range(300)])
    with sqlite3.connect(folder / "chroma.sqlite3") as db:
        assert db.execute("SELECT min(seq_id) FROM embeddings_queue").fetchone()[0] > 1
    pickle = next(folder.glob("*/index_metadata.pickle"))
    pickle.write_bytes(b"")
    with pytest.raises(StoreError, match=rf"^the vector index in {re.escape(str(folder))} is damaged .* cannot be rebuilt; "
                                         "delete that folder and run `passage ingest` again$"):
        repair(folder)
    assert pickle.exists()


# --- the BM25 cache ------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_bm25_cache_that_cannot_be_written_warns_once_and_answers(fresh_data_dir):
    shutil.rmtree(fresh_data_dir / "cache", ignore_errors=True)
    (fresh_data_dir / "cache").write_text("a file where the cache folder should be")
    proc = cli_driver.run("ask", QUESTION, "--answerer", "extractive", "--data-dir", str(fresh_data_dir))
    assert proc.returncode == 0
    assert proc.stderr == (f"WARNING rag.bm25: cannot write the BM25 cache in {fresh_data_dir / 'cache'} (Not a directory); "
                           "keeping the index in memory\n")
    assert "at the age of 13" in proc.stdout
    reader = cli_driver.run("ask", QUESTION, "--data-dir", str(fresh_data_dir))  # its sentence cache warns too, once
    assert reader.returncode == 0 and "at the age of 13" in reader.stdout
    lines = reader.stderr.splitlines()
    assert len(lines) == 2 and lines[0] == proc.stderr.strip()
    assert lines[1].startswith("WARNING rag.reader.vectors: sentence vector cache ") and lines[1].endswith("keeping vectors in memory only")


@pytest.mark.slow
def test_the_retriever_warns_once_per_cache_folder(fresh_data_dir, embedder, caplog, tmp_path):
    from app.wiring import build_services

    shutil.rmtree(fresh_data_dir / "cache", ignore_errors=True)
    (fresh_data_dir / "cache").write_text("not a folder")
    assistant, library = build_services(Settings(data_dir=fresh_data_dir), embedder)
    note = tmp_path / "lighthouse.txt"
    note.write_text("The Lighthouse\n\nThe zephyrine lighthouse is painted bright green.\n")
    with caplog.at_level(logging.WARNING, logger="rag.bm25"):
        assistant.retriever.retrieve("zephyrine lighthouse", 5, "bm25")
        library.add([note])  # the index is rebuilt, still in memory
        top = assistant.retriever.retrieve("zephyrine lighthouse", 5, "bm25")
    assert top[0].chunk.source == "lighthouse"
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"cannot write the BM25 cache in {fresh_data_dir / 'cache'}"]


# --- messages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk holding /d/chroma is full"),
        (sqlite3.OperationalError("attempt to write a readonly database"),
         "the index at /d/chroma is read-only; make it writable (or run as its owner) and try again"),
        (RuntimeError("Error executing plan: boom"), "the Chroma store at /d/chroma failed: Error executing plan: boom"),
    ],
)
def test_store_errors_name_the_store_and_what_to_do(exc, message):
    assert str(store_error(exc, Where(folder=__import__("pathlib").Path("/d/chroma")))).startswith(message)


def test_a_server_error_masks_the_url_credential():
    error = store_error(ConnectionError("refused"), Where(url="http://ann:hunter2@127.0.0.1:9"))
    assert "hunter2" not in str(error) and str(error).startswith("lost the Chroma server at http://ann:***@127.0.0.1:")
