"""One writer at a time: the write lock itself (file and lease), and concurrent `passage ingest`
processes into one index, which must leave exactly what a sequential ingest leaves."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from app.wiring import build_ingestor
from ingest.lock import FileLock, Holder, LeaseLock, holding, open_lock
from ingest.store import open_store
from passage.errors import BusyError
from passage.settings import Settings
from tests import cli_driver

HOST = socket.gethostname()
DOCS = {
    "a": {"alpha.md": "# Alpha\n\nThe border river is cold in winter. Guards patrol it at night.\n\n## Crossing\n\n"
                      "People cross the river on foot when it freezes.\n",
          "beta.txt": "Beta Report\n\nThe famine of the 1990s drove many people north into China.\n"},
    "b": {"gamma.md": "# Gamma\n\nBrokers arrange passage through China for a fee.\n\n## Routes\n\n"
                      "Many travel south through Laos or Thailand.\n",
          "delta.txt": "Delta Notes\n\nResettlement centres teach newcomers about daily life in the South.\n"},
}


def _folders(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, files in DOCS.items():
        out[name] = tmp_path / name
        out[name].mkdir()
        for file, text in files.items():
            (out[name] / file).write_text(text)
    return out


def _state(data_dir: Path):
    store = open_store(Settings(data_dir=data_dir))
    records = {r.source: (r.content_hash, r.chunk_ids) for r in store.records()}
    named = sorted(c for _, ids in records.values() for c in ids)
    return records, named, sorted(store.chunk_ids())


def _sequential(tmp_path: Path, embedder, folders) -> tuple:
    data_dir = tmp_path / "sequential"
    ingestor = build_ingestor(Settings(data_dir=data_dir), embedder)
    for folder in folders:
        ingestor.ingest([folder])
    return _state(data_dir)


# --- the file lock ---------------------------------------------------------------------------

def test_a_second_writer_without_waiting_gets_one_line_naming_the_holder(tmp_path):
    first, second = FileLock(tmp_path / "write.lock"), FileLock(tmp_path / "write.lock")
    with holding(first, "ingest"):
        with pytest.raises(BusyError) as caught:
            second.acquire("remove", wait=False)
    assert str(caught.value) == (f"another ingest (pid {os.getpid()} on {HOST}) is writing to the index at {tmp_path}; "
                                 "try again when it has finished (or leave out --no-wait)")
    second.acquire("remove", wait=False)  # free again once released
    second.release()


def test_a_waiting_writer_is_told_once_and_runs_after_the_holder(tmp_path):
    first, second = FileLock(tmp_path / "write.lock", poll_s=0.05), FileLock(tmp_path / "write.lock", poll_s=0.05)
    told: list[Holder] = []
    first.acquire("ingest")
    waiter = threading.Thread(target=lambda: (second.acquire("remove", on_wait=told.append), second.release()))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive() and [(h.action, h.pid, h.host) for h in told] == [("ingest", os.getpid(), HOST)]
    first.release()
    waiter.join(5)
    assert not waiter.is_alive() and len(told) == 1


def test_a_killed_holder_never_blocks(tmp_path):
    code = ("import sys, time; from ingest.lock import FileLock; "
            f"FileLock(__import__('pathlib').Path({str(tmp_path / 'write.lock')!r})).acquire('ingest'); "
            "print('held', flush=True); time.sleep(600)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=cli_driver.env())
    assert holder.stdout.readline() == "held\n"
    with pytest.raises(BusyError, match=rf"^another ingest \(pid {holder.pid} on "):
        FileLock(tmp_path / "write.lock").acquire("ingest", wait=False)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = FileLock(tmp_path / "write.lock")
    lock.acquire("ingest", wait=False)
    lock.release()


# --- the lease lock on a Chroma server -------------------------------------------------------

@pytest.fixture
def server_settings(chroma_url, tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, collection=f"lock-{uuid.uuid4().hex[:12]}")


def _lease(settings: Settings, lease_s: float) -> LeaseLock:
    lock = open_lock(settings)
    assert isinstance(lock, LeaseLock)
    lock.lease_s, lock.poll_s = lease_s, 0.1
    return lock


@pytest.mark.server
def test_of_two_writers_claiming_a_lease_at_once_exactly_one_wins(server_settings):
    for _ in range(5):
        locks = [_lease(server_settings, 30), _lease(server_settings, 30)]
        start, outcomes = threading.Barrier(2), []

        def claim(lock):
            start.wait()
            try:
                lock.acquire("ingest", wait=False)
                outcomes.append("won")
            except BusyError:
                outcomes.append("busy")

        threads = [threading.Thread(target=claim, args=(lock,)) for lock in locks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes) == ["busy", "won"]
        for lock in locks:
            lock.release()


@pytest.mark.server
def test_a_renewed_lease_holds(server_settings):
    held = _lease(server_settings, 1.0)
    held.acquire("ingest")
    time.sleep(2.5)  # more than the lease: the heartbeat renews it
    with pytest.raises(BusyError, match=rf"^another ingest \(pid {os.getpid()} on {HOST}\) is writing to the index at http"):
        _lease(server_settings, 1.0).acquire("remove", wait=False)
    held.release()


@pytest.mark.server
def test_a_killed_writers_lease_on_this_machine_is_taken_over_at_once(server_settings):
    code = ("import time; from ingest.lock import open_lock; from passage.settings import Settings; "
            f"lock = open_lock(Settings(data_dir={str(server_settings.data_dir)!r}, chroma_url={server_settings.chroma_url!r}, "
            f"collection={server_settings.collection!r})); lock.acquire('ingest'); print('held', flush=True); time.sleep(600)")
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=cli_driver.env())
    assert writer.stdout.readline() == "held\n"
    with pytest.raises(BusyError, match=rf"^another ingest \(pid {writer.pid} on "):
        _lease(server_settings, 30).acquire("remove", wait=False)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    told: list[Holder] = []
    taker = _lease(server_settings, 30)
    taker.acquire("remove", on_wait=told.append)  # a 30 s lease, yet no wait: its pid is gone
    assert told == []
    taker.release()


@pytest.mark.server
def test_a_lease_from_another_machine_is_waited_out_then_taken_over(server_settings):
    first = _lease(server_settings, 30)
    first.acquire("ingest")
    first._stop.set()  # a writer elsewhere that stopped renewing: its lease runs out in 1.5 s
    lease, meta = first._held
    first._write(lease, {**meta, "host": "elsewhere", "pid": 1, "expires": time.time() + 1.5})
    told: list[Holder] = []
    began = time.monotonic()
    taker = _lease(server_settings, 30)
    taker.acquire("remove", on_wait=told.append)
    assert 1.0 < time.monotonic() - began < 10
    assert [(h.action, h.pid, h.host) for h in told] == [("ingest", 1, "elsewhere")]
    taker.release()


# --- concurrent `passage ingest` processes ----------------------------------------------------

def _reader(stream, lines: list[str]) -> threading.Thread:
    thread = threading.Thread(target=lambda: lines.extend(stream), daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_a_second_ingest_waits_instead_of_sweeping_the_firsts_unrecorded_chunks(tmp_path, embedder):
    """The first ingest stops between writing its chunks and their records; before the lock, the
    second one's orphan sweep deleted those chunks and the records named chunks never stored."""
    folders, data_dir = _folders(tmp_path), tmp_path / "data"
    first = cli_driver.start("ingest", str(folders["a"]), "--data-dir", str(data_dir), pause_at="upsert:1",
                             pause_dir=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cli_driver.wait_for(tmp_path / "paused", first)
    second = cli_driver.start("ingest", str(folders["b"]), "--data-dir", str(data_dir),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[str] = []
    reading = _reader(second.stderr, errors)
    deadline = time.monotonic() + 300
    while not any("waiting for another" in line for line in errors) and time.monotonic() < deadline and second.poll() is None:
        time.sleep(0.1)
    assert f"waiting for another ingest (pid {first.pid} on {HOST}) to finish…\n" in errors
    (tmp_path / "go").touch()
    out_first, _ = first.communicate(timeout=300)
    out_second = second.stdout.read()
    assert (first.wait(), second.wait(timeout=300)) == (0, 0)
    reading.join(5)
    assert "2 new, 0 unchanged" in out_first and "2 new, 0 unchanged" in out_second
    records, named, stored = _state(data_dir)
    assert named == stored
    assert (records, named, stored) == _sequential(tmp_path, embedder, [folders["a"], folders["b"]])


@pytest.mark.slow
def test_concurrent_ingests_leave_what_a_sequential_ingest_leaves(tmp_path, embedder):
    """Both processes are held just before the lock and released together, so every trial is a
    real race for it: exactly one of them must wait, and the index must equal a sequential one."""
    folders = _folders(tmp_path)
    expected = _sequential(tmp_path, embedder, [folders["a"], folders["b"]])
    for trial in range(3):
        data_dir, gates = tmp_path / f"trial{trial}", [tmp_path / f"gate{trial}{name}" for name in "ab"]
        procs = []
        for name, gate in zip("ab", gates):
            gate.mkdir()
            procs.append(cli_driver.start("ingest", str(folders[name]), "--data-dir", str(data_dir),
                                          pause_at="lock:ingest", pause_dir=gate,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for gate, proc in zip(gates, procs):
            cli_driver.wait_for(gate / "paused", proc)
        for gate in gates:
            (gate / "go").touch()
        outputs = [p.communicate(timeout=600) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
        assert all("2 new, 0 unchanged, 0 replaced, 0 removed, 0 failed" in out for out, _ in outputs)
        assert sum("waiting for another ingest" in err for _, err in outputs) == 1, f"trial {trial}"
        assert _state(data_dir) == expected, f"trial {trial}"


@pytest.mark.slow
def test_no_wait_exits_1_with_one_line_and_a_waiting_remove_runs_after(tmp_path, fresh_data_dir, corpus_files):
    lock = FileLock(fresh_data_dir / "write.lock")
    lock.acquire("ingest")
    try:
        for args in (["ingest", str(corpus_files)], ["docs", "remove", "iccpr"]):
            proc = cli_driver.run(*args, "--no-wait", "--data-dir", str(fresh_data_dir))
            assert (proc.returncode, proc.stderr) == (1, f"error: another ingest (pid {os.getpid()} on {HOST}) is writing "
                                                         f"to the index at {fresh_data_dir}; try again when it has finished "
                                                         "(or leave out --no-wait)\n")
        remove = cli_driver.start("docs", "remove", "iccpr", "--data-dir", str(fresh_data_dir),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        errors: list[str] = []
        reading = _reader(remove.stderr, errors)
        deadline = time.monotonic() + 120
        while not errors and time.monotonic() < deadline and remove.poll() is None:
            time.sleep(0.1)
        assert errors == [f"waiting for another ingest (pid {os.getpid()} on {HOST}) to finish…\n"]
        assert remove.poll() is None
    finally:
        lock.release()
    assert remove.wait(timeout=120) == 0
    reading.join(5)
    assert remove.stdout.read().startswith("removed iccpr (")


@pytest.mark.slow
def test_the_web_pages_library_writes_under_the_same_lock(fresh_data_dir, embedder, tmp_path):
    from app.wiring import build_services

    _, library = build_services(Settings(data_dir=fresh_data_dir), embedder)  # what ui/session.py builds
    note = tmp_path / "note.txt"
    note.write_text("Note\n\nA short note.\n")
    lock = FileLock(fresh_data_dir / "write.lock")
    lock.acquire("ingest")
    try:
        for write in (lambda: library.add([note], wait=False), lambda: library.remove("iccpr", wait=False)):
            with pytest.raises(BusyError, match=rf"^another ingest \(pid {os.getpid()} on "):
                write()
    finally:
        lock.release()
    assert library.remove("iccpr").source == "iccpr"
