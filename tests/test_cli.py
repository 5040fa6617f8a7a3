"""The `passage` command as a user runs it: real subprocesses on a real index."""
import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from ingest.store import open_store
from passage.settings import Settings
from tests import cli_driver

pytestmark = pytest.mark.slow
def run(*args, data_dir: Path, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = cli_driver.run(*args, "--data-dir", str(data_dir))
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def _snapshot(data_dir: Path):
    store = open_store(Settings(data_dir=data_dir))
    records = {r.source: (r.content_hash, r.chunk_ids) for r in store.records()}
    return records, sorted(store.chunk_ids())


def test_ask_json_contract(ingested_dir):
    proc = run("ask", "How old was Yeonmi Park when she escaped?", "--json", data_dir=ingested_dir)
    data = json.loads(proc.stdout)
    assert {"question", "answer", "abstained", "citations", "retrieved", "timings_ms"} <= set(data)
    assert data["abstained"] is False and "13" in data["answer"]
    first = data["citations"][0]
    assert {"n", "source", "title", "section", "text", "start", "end", "score"} <= set(first)
    assert first["source"] == "leaving-north-korea"
    assert first["section"] == "Leaving North Korea > Personal Accounts of Successful Escape"
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}
    used = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert used == {c["n"] for c in data["citations"]}
    assert all(set(p) == {"source", "title", "section", "text", "start", "end", "score"} for p in data["retrieved"])


def test_ask_plain_lists_sources(ingested_dir):
    out = run("ask", "How old was she when she got out?", "--history", "Tell me about Yeonmi Park.", data_dir=ingested_dir).stdout
    assert "13" in out.splitlines()[0]
    assert "[1] Leaving North Korea > Personal Accounts of Successful Escape" in out


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("   ", "error: the question is empty; type a question about the documents"),
        ("x" * 10000, "error: the question is too long (10000 characters; the limit is 2000)"),
    ],
)
def test_ask_bad_questions_give_one_line(ingested_dir, question, message):
    proc = run("ask", question, data_dir=ingested_dir, check_rc=2)
    assert proc.stderr.strip() == message


def test_ask_on_an_empty_index(tmp_path):
    run("ingest", str(tmp_path / "nothing"), data_dir=tmp_path / "empty", check_rc=1)  # an index with no documents
    proc = run("ask", "Anything?", data_dir=tmp_path / "empty", check_rc=2)
    corpus = cli_driver.ROOT / "corpus"  # named in full, so the line works from any folder
    assert proc.stderr.strip() == f"error: nothing is ingested yet; run `passage ingest {corpus}` (or your own folder)"


def test_ask_control_characters_and_other_languages(ingested_dir):
    data = json.loads(run("ask", "How old\x07 was Yeonmi\x1b Park when she escaped?", "--json", data_dir=ingested_dir).stdout)
    assert data["question"] == "How old was Yeonmi Park when she escaped?"
    korean = json.loads(run("ask", "북한의 수도는 어디입니까?", "--json", data_dir=ingested_dir).stdout)
    assert korean["abstained"] is True and korean["citations"] == []


def test_ingest_cli_summary_and_failures(tmp_path, corpus_files):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Border Notes\n\nThe river freezes in winter.\n")
    (docs / "bad.pdf").write_bytes(b"not a pdf at all")
    proc = run("ingest", str(docs), data_dir=tmp_path / "d", check_rc=1)
    assert "error: " + str(docs / "bad.pdf") + ": not a valid PDF" in proc.stderr
    assert "1 new, 0 unchanged, 0 replaced, 0 removed, 1 failed" in proc.stdout
    listed = json.loads(run("docs", "list", "--json", data_dir=tmp_path / "d").stdout)
    assert [(d["source"], d["chunks"]) for d in listed] == [("good", 1)]


def test_ingest_table_names_skipped_links_and_escapes_control_characters(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes\x1b[31m.txt").write_text("Border Notes\n\nThe river freezes in winter.\n")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    proc = run("ingest", str(docs), data_dir=tmp_path / "d")
    assert "\x1b" not in proc.stdout and "notes\\x1b[31m" in proc.stdout
    assert "passwd.txt" in proc.stdout and "skipped:" in proc.stdout
    listed = run("docs", "list", data_dir=tmp_path / "d").stdout
    assert "\x1b" not in listed and "root:" not in listed


def test_docs_list_and_remove(fresh_data_dir):
    listed = json.loads(run("docs", "list", "--json", data_dir=fresh_data_dir).stdout)
    assert len(listed) == 7 and all(d["chunks"] > 0 for d in listed)
    out = run("docs", "remove", "iccpr", data_dir=fresh_data_dir).stdout
    assert out.startswith("removed iccpr (")
    proc = run("docs", "remove", "nope", data_dir=fresh_data_dir, check_rc=2)
    assert proc.stderr.startswith("error: no document 'nope'; indexed: leaving-north-korea")


def test_unchanged_reingest_says_so(fresh_data_dir, corpus_files):
    out = run("ingest", str(corpus_files), data_dir=fresh_data_dir).stdout
    assert "0 new, 7 unchanged, 0 replaced, 0 removed, 0 failed; 0 chunks embedded" in out


def test_ingest_killed_midway_then_rerun_equals_a_clean_ingest(tmp_path, corpus_files, ingested_dir):
    """Killed right after its first batch of chunks is written, before every record is."""
    data_dir = tmp_path / "killed"
    proc = cli_driver.start("ingest", str(corpus_files), "--data-dir", str(data_dir), pause_at="upsert:1",
                            pause_dir=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cli_driver.wait_for(tmp_path / "paused", proc)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    partial_records, partial_ids = _snapshot(data_dir)
    assert partial_ids and len(partial_records) < 7  # midway: chunks written, not every record
    run("ingest", str(corpus_files), data_dir=data_dir)
    assert _snapshot(data_dir) == _snapshot(ingested_dir)


def test_passage_ui_serves_the_app_on_loopback(fresh_data_dir, tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    passage = Path(sys.executable).with_name("passage")
    proc = subprocess.Popen([str(passage), "ui", "--port", str(port), "--data-dir", str(fresh_data_dir)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, healthy = time.monotonic() + 60, False
        while time.monotonic() < deadline and not healthy and proc.poll() is None:
            try:
                healthy = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
            except OSError:
                time.sleep(0.3)
        assert healthy, proc.stdout.read().decode() if proc.poll() is not None else "no health reply"
    finally:
        proc.terminate()  # the command execs Streamlit, so this stops the server itself
        code = proc.wait(timeout=15)
    output = proc.stdout.read().decode()
    assert code == 0, output  # Streamlit stops cleanly on SIGTERM; a crash or a kill gives another code
    assert f"passage web chat on http://127.0.0.1:{port}" in output
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
