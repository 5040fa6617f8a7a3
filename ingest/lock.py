"""One writer at a time per index: ingests and removals take this lock; readers never do.

Embedded Chroma: `FileLock`, an fcntl.flock on `write.lock` in the data dir, which holds the
holder's pid, host, action and start time for the message a waiter prints. The kernel drops
the lock when its process dies, so a killed writer never blocks the next one.

Chroma server: `LeaseLock`, a lease record in a small `<collection>-locks` collection, so
writers on different machines serialise too. Each lease is a new record `lease-<n>`; Chroma's
`add` keeps the first record of an id, so of two writers adding the same next lease exactly
one reads itself back as owner. A heartbeat thread renews the lease while the writer works;
a lease not renewed for `lease_s` (its writer died or lost the network), or whose writer ran
on this machine and is gone, is taken over.
Simplified: expiry compares wall clocks, so machines must agree on the time within the lease.

Usage: `with holding(open_lock(settings), "ingest"): ...`.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from passage.errors import BusyError, PassageError
from passage.redact import redact
from passage.settings import Settings

log = logging.getLogger(__name__)

LOCK_FILE = "write.lock"
LOCKS_SUFFIX = "-locks"


@dataclass(frozen=True)
class Holder:
    """Who holds the lock: `str(holder) == "ingest (pid 4242 on box)"`."""

    action: str
    pid: int
    host: str
    since: float

    def __str__(self) -> str:
        return f"{self.action} (pid {self.pid} on {self.host})"


Waiting = Callable[[Holder], None]  # told once, when a writer starts to wait for `Holder`


class WriteLock(Protocol):
    def acquire(self, action: str, wait: bool = True, on_wait: Waiting | None = None) -> None: ...
    def release(self) -> None: ...


@contextlib.contextmanager
def holding(lock: WriteLock, action: str, wait: bool = True, on_wait: Waiting | None = None) -> Iterator[None]:
    lock.acquire(action, wait, on_wait)
    try:
        yield
    finally:
        lock.release()


def open_lock(settings: Settings) -> WriteLock:
    """The lock for the index `settings` name: a lease in the Chroma server, else a file in the data dir."""
    if settings.chroma_url:
        def collection():  # opened on first use, so commands that only read create nothing
            from .faults import Guarded
            from .store import open_client, store_location

            guarded = Guarded(open_client(settings), store_location(settings))
            return guarded.get_or_create_collection(settings.collection + LOCKS_SUFFIX, embedding_function=None)

        return LeaseLock(collection, redact(settings.chroma_url))
    return FileLock(settings.data_dir / LOCK_FILE)


def busy(holder: Holder | None, where: str) -> BusyError:
    who = f"another {holder}" if holder else "another process"
    return BusyError(f"{who} is writing to the index at {where}; try again when it has finished (or leave out --no-wait)")


def _me(action: str) -> Holder:
    return Holder(action, os.getpid(), socket.gethostname(), time.time())


class FileLock:
    """Usage: `FileLock(data_dir / "write.lock").acquire("remove", wait=False)`."""

    def __init__(self, path: Path, poll_s: float = 0.2):
        self.path = path
        self.poll_s = poll_s
        self._fd: int | None = None

    def acquire(self, action: str, wait: bool = True, on_wait: Waiting | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        told = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = self.holder()
                    if not wait:
                        raise busy(holder, str(self.path.parent)) from None
                    if on_wait and not told and holder:
                        on_wait(holder)
                        told = True
                    time.sleep(self.poll_s)
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(_me(action))).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor drops the flock

    def holder(self) -> Holder | None:
        """Who holds the lock now, from the file (None while a new holder is still writing it)."""
        try:
            return Holder(**json.loads(self.path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


class LeaseLock:
    """Usage: `LeaseLock(lambda: locks_collection, "http://host:8000").acquire("ingest")`."""

    def __init__(self, collection: Callable[[], Any], where: str, lease_s: float = 30.0, poll_s: float = 0.5):
        self._open = collection
        self._opened = None
        self.where = where
        self.lease_s = lease_s
        self.poll_s = poll_s
        self._owner = uuid.uuid4().hex
        self._held: tuple[str, dict] | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, action: str, wait: bool = True, on_wait: Waiting | None = None) -> None:
        told = False
        while True:
            leases = self._leases()
            generation, top = leases[-1] if leases else (0, None)
            if top is None or top["released"] or top["expires"] < time.time() or _dead_here(top):
                if self._claim(generation + 1, action):
                    self._forget([g for g, _ in leases])
                    return
                continue  # another writer claimed that lease first
            holder = Holder(top["action"], top["pid"], top["host"], top["since"])
            if not wait:
                raise busy(holder, self.where)
            if on_wait and not told:
                on_wait(holder)
                told = True
            time.sleep(self.poll_s)

    def release(self) -> None:
        if self._held is None:
            return
        self._stop.set()
        if self._beat:
            self._beat.join()
        lease, meta = self._held
        self._held = None
        try:
            self._write(lease, {**meta, "released": True})
        except PassageError as exc:  # it runs out by itself, or the next writer on this host sees its pid is gone
            log.debug("could not release the write lease at %s: %s", self.where, exc)

    @property
    def _collection(self):
        if self._opened is None:
            self._opened = self._open()
        return self._opened

    def _leases(self) -> list[tuple[int, dict]]:
        """Every lease record as (generation, metadata), oldest first."""
        got = self._collection.get(include=["metadatas"])
        return sorted((_generation(i), m) for i, m in zip(got["ids"], got["metadatas"]))

    def _claim(self, generation: int, action: str) -> bool:
        lease = _lease_id(generation)
        me = _me(action)
        meta = {**asdict(me), "owner": self._owner, "expires": me.since + self.lease_s, "released": False}
        self._collection.add(ids=[lease], embeddings=[[1.0]], metadatas=[meta])
        got = self._collection.get(ids=[lease], include=["metadatas"])
        if not got["ids"] or got["metadatas"][0]["owner"] != self._owner:
            return False
        self._held = (lease, meta)
        self._stop.clear()
        self._beat = threading.Thread(target=self._renew, name="passage-lease", daemon=True)
        self._beat.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            held = self._held
            if held is None:
                return
            try:
                if self._leases()[-1][0] != _generation(held[0]):
                    log.warning("the write lease at %s expired and was taken over; another writer may be running", self.where)
                    return
                self._write(held[0], {**held[1], "expires": time.time() + self.lease_s})
            except (PassageError, IndexError) as exc:  # the writer's own next call reports the store's state
                log.debug("lease renewal failed: %s", exc)

    def _write(self, lease: str, meta: dict) -> None:
        self._collection.upsert(ids=[lease], embeddings=[[1.0]], metadatas=[meta])

    def _forget(self, generations: list[int]) -> None:
        """Delete superseded leases (all but the one just claimed): they can never matter again."""
        if generations:
            self._collection.delete(ids=[_lease_id(g) for g in generations])


def _dead_here(lease: dict) -> bool:
    """Whether the lease's writer ran on this machine and its process is gone (no need to wait out the lease)."""
    if lease["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(lease["pid"]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but is not ours to signal
        return False
    return False


def _lease_id(generation: int) -> str:
    return f"lease-{generation:012d}"


def _generation(lease_id: str) -> int:
    return int(lease_id.rsplit("-", 1)[-1])
