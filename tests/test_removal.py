"""Removing a document is crash-safe: `passage docs remove` SIGKILLed at each step either did
nothing or leaves a tombstone that readers skip and the next removal or ingest completes."""
import json
import signal
import subprocess

import pytest

from ingest.store import open_store
from passage.settings import Settings
from tests import cli_driver

pytestmark = pytest.mark.slow
QUESTION = "Does everyone have the right to leave any country, including their own?"


def _snapshot(data_dir):
    store = open_store(Settings(data_dir=data_dir))
    return {r.source: (r.content_hash, r.chunk_ids) for r in store.records()}, sorted(store.chunk_ids())


def _kill_at(pause_at: str, data_dir, tmp_path) -> None:
    proc = cli_driver.start("docs", "remove", "iccpr", "--data-dir", str(data_dir), pause_at=pause_at, pause_dir=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli_driver.wait_for(tmp_path / "paused", proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL


@pytest.mark.parametrize(
    ("pause_at", "chunks_left", "finish"),
    [
        ("put_record:1", 1.0, ["docs", "remove", "iccpr"]),  # tombstone written, nothing deleted yet
        ("delete:1:half", 0.5, ["ingest"]),                  # half the chunks deleted
        ("delete:1", 0.0, ["docs", "remove", "iccpr"]),      # every chunk deleted, the record not yet
    ],
)
def test_a_removal_killed_midway_is_invisible_and_finished_by_the_next_writer(
        pause_at, chunks_left, finish, fresh_data_dir, ingested_dir, corpus_files, tmp_path):
    records, stored = _snapshot(ingested_dir)
    iccpr = set(records["iccpr"][1])
    _kill_at(pause_at, fresh_data_dir, tmp_path)

    tombstone = open_store(Settings(data_dir=fresh_data_dir)).record("iccpr")
    assert tombstone is not None and tombstone.removing  # the kill landed midway
    left = iccpr & set(_snapshot(fresh_data_dir)[1])
    assert len(left) == int(len(iccpr) * chunks_left)

    listed = json.loads(cli_driver.run("docs", "list", "--json", "--data-dir", str(fresh_data_dir)).stdout)
    assert [d["source"] for d in listed] == sorted(set(records) - {"iccpr"})
    if pause_at == "put_record:1":  # every chunk still stored, none may be cited
        proc = cli_driver.run("ask", QUESTION, "--json", "--k", "10", "--data-dir", str(fresh_data_dir))
        answer = json.loads(proc.stdout)
        assert all(p["source"] != "iccpr" for p in answer["retrieved"] + answer["citations"])
        proc = cli_driver.run("ask", QUESTION, "--source", "iccpr", "--data-dir", str(fresh_data_dir))
        assert proc.returncode == 2 and proc.stderr.startswith("error: no document 'iccpr'; choose one of: leaving-north-korea")

    args = finish + ([str(corpus_files)] if finish == ["ingest"] else [])
    proc = cli_driver.run(*args, "--data-dir", str(fresh_data_dir))
    assert proc.returncode == 0, proc.stderr
    if finish[0] == "docs":
        assert proc.stdout == f"removed iccpr ({len(iccpr)} chunks)\n"
        expected = ({s: v for s, v in records.items() if s != "iccpr"}, sorted(set(stored) - iccpr))
    else:  # the ingest completes the removal, then adds the document back as new
        assert "1 new, 6 unchanged" in proc.stdout
        expected = (records, stored)
    assert _snapshot(fresh_data_dir) == expected
