"""The scale curve: one index grown to 1k, 10k and 100k chunks, on embedded Chroma and on a
Chroma server (`chroma run`, started here on a free port of 127.0.0.1).

    .venv/bin/python benchmarks/scale_bench.py [--sizes 1000,10000,100000] [--backends embedded,server]

Chunks are synthetic but realistic: the corpus's sentences resampled into chunk-sized texts
of 60-120 words, in documents of 40 chunks with the chunker's metadata and a manifest
record each. Vectors are computed once, for a pool of texts, and reused with a small random
perturbation (re-normalised), so 100k chunks cost a few hundred model calls, not 100k; a
chunk's text is its pool text plus one more corpus sentence. Everything is written through
`ChromaStore`, as ingest writes it. At each size:

  insert        chunks (and their records) written per second while growing to this size
  disk          the index folder on disk
  RSS / peak    resident memory of this process (model included) and of the server, now and at peak
  read all      one read of every chunk, as a BM25 rebuild does
  bm25 build    tokenising and indexing every chunk, and saving the index; bm25 load: from disk
  hybrid        warm p50 / p95 of `Retriever.search` (dense, BM25, fusion, de-duplication) over the
                test set's questions, their vectors computed beforehand: the query's embedding
                does not depend on the index size and is shown apart
  change check  noticing that the index changed: listing every chunk id (the old fingerprint) vs
                reading the version and count (`index_key`)
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.runtime import quiet_libraries  # noqa: E402
from app.wiring import load_embedder  # noqa: E402
from benchmarks.synthetic import chunk, chunk_texts, corpus_sentences  # noqa: E402
from ingest.store import open_store  # noqa: E402
from passage.models import DocumentRecord, content_hash  # noqa: E402
from passage.settings import Settings  # noqa: E402
from rag.bm25 import Bm25Index, index_key  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402

PER_DOCUMENT = 40
BATCH = 2000


def memory_mb(pid: int | str = "self") -> tuple[float, float]:
    """(resident, peak resident) MB of a process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file()) / 2**20


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextlib.contextmanager
def chroma_server(folder: Path):
    """A `chroma run` on a free port of 127.0.0.1: yields (url, pid)."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    with (folder / "server.log").open("wb") as log:
        proc = subprocess.Popen([str(chroma), "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                with contextlib.suppress(OSError):
                    with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"chroma run did not start:\n{(folder / 'server.log').read_text()[-2000:]}")
                time.sleep(0.25)
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


class Library:
    """The synthetic index: pool texts and vectors, grown chunk by chunk in numbered order."""

    def __init__(self, embedder, pool: int, seed: int = 11):
        self.sentences = corpus_sentences()
        rng = random.Random(seed)
        self.texts = chunk_texts(rng, self.sentences, pool)
        began = time.perf_counter()
        self.vectors = np.asarray(embedder.embed(self.texts), dtype=np.float32)
        self.embed_s = time.perf_counter() - began

    def batch(self, start: int, stop: int):
        rng = np.random.default_rng(start)
        chunks = [chunk(n, f"{self.texts[n % len(self.texts)]} {self.sentences[(n * 7919) % len(self.sentences)]}",
                        PER_DOCUMENT) for n in range(start, stop)]
        vectors = self.vectors[[n % len(self.texts) for n in range(start, stop)]]
        vectors = vectors + rng.normal(0, 0.02, vectors.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return chunks, vectors

    def grow(self, store, have: int, size: int) -> float:
        """Write chunks have..size-1 and their documents' records, as ingest does; chunks per second.
        Sizes are multiples of PER_DOCUMENT, so no document straddles two batches."""
        began = time.perf_counter()
        for start in range(have, size, BATCH):
            chunks, vectors = self.batch(start, min(size, start + BATCH))
            store.upsert(chunks, vectors.tolist())
            by_source: dict[str, list] = {}
            for c in chunks:
                by_source.setdefault(c.source, []).append(c)
            for source, members in by_source.items():
                store.put_record(_record(source, members))
        return (size - have) / (time.perf_counter() - began)


def _record(source: str, members) -> DocumentRecord:
    return DocumentRecord(source=source, title=members[0].title, path=f"/library/{source}.md", kind="markdown",
                          content_hash=content_hash(source), chunk_ids=tuple(c.id for c in members),
                          sections=len({c.section for c in members}), added_at="2026-11-26T00:00:00+00:00", chunking="scale")


def measure(store, embedder, settings: Settings, questions: list[str], server_pid: int | None, folder: Path) -> dict:
    row: dict = {"disk MB": disk_mb(folder)}
    began = time.perf_counter()
    chunks = store.chunks()
    row["read all s"] = time.perf_counter() - began
    key = index_key(store)
    began = time.perf_counter()
    index = Bm25Index.build(chunks)
    index.save(settings.cache_dir / "bm25" / key)
    row["bm25 build s"] = time.perf_counter() - began
    del chunks, index
    began = time.perf_counter()
    Bm25Index.load(settings.cache_dir / "bm25" / key)
    row["bm25 load s"] = time.perf_counter() - began
    retriever = Retriever(store, embedder, settings.cache_dir, settings.candidates, settings.rrf_k)
    for question in questions[:5]:
        retriever.search(question, 5, "hybrid")  # warm: BM25 loaded, caches filled
    times = []
    for question in questions:
        began = time.perf_counter()
        retriever.search(question, 5, "hybrid")
        times.append(time.perf_counter() - began)
    row["hybrid p50 ms"], row["hybrid p95 ms"] = 1000 * pct(times, 0.5), 1000 * pct(times, 0.95)
    row["old check ms"] = 1000 * _median_time(lambda: content_hash("\n".join(sorted(store.chunk_ids()))), 5)
    row["new check ms"] = 1000 * _median_time(lambda: index_key(store), 5)
    row["RSS MB"], row["peak MB"] = memory_mb()
    if server_pid:
        row["server RSS MB"], row["server peak MB"] = memory_mb(server_pid)
    return row


class Vectors:
    """The embedder with each question's vector computed once, and the time that took."""

    def __init__(self, embedder, questions: list[str]):
        self.embedder, self.times, self._known = embedder, [], {}
        self.name, self.max_tokens = embedder.name, embedder.max_tokens
        for question in questions:
            began = time.perf_counter()
            self._known[question] = embedder.embed([question])[0]
            self.times.append(time.perf_counter() - began)

    def embed(self, texts):
        return [self._known.get(t) or self.embedder.embed([t])[0] for t in texts]


def _median_time(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def run_backend(backend: str, sizes: list[int], library: Library, embedder: Vectors, questions: list[str],
                tmp: Path) -> list[dict]:
    rows = []
    folder = tmp / backend
    folder.mkdir()
    with contextlib.ExitStack() as stack:
        url, pid = stack.enter_context(chroma_server(folder)) if backend == "server" else (None, None)
        settings = Settings(data_dir=folder / "data", chroma_url=url, collection=f"scale-{uuid.uuid4().hex[:8]}")
        store = open_store(settings)
        have = 0
        for size in sizes:
            rate = library.grow(store, have, size)
            have = size
            row = {"backend": backend, "chunks": size, "insert/s": rate}
            row.update(measure(store, embedder, settings, questions, pid, folder / ("db" if url else "data")))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


COLUMNS = [("backend", "{}"), ("chunks", "{:,}"), ("insert/s", "{:,.0f}"), ("disk MB", "{:,.0f}"), ("RSS MB", "{:,.0f}"),
           ("peak MB", "{:,.0f}"), ("server RSS MB", "{:,.0f}"), ("server peak MB", "{:,.0f}"), ("read all s", "{:.2f}"),
           ("bm25 build s", "{:.2f}"), ("bm25 load s", "{:.2f}"), ("hybrid p50 ms", "{:.1f}"), ("hybrid p95 ms", "{:.1f}"),
           ("old check ms", "{:.1f}"), ("new check ms", "{:.1f}")]


def print_table(rows: list[dict]) -> None:
    print("| " + " | ".join(name for name, _ in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for row in rows:
        print("| " + " | ".join(fmt.format(row[name]) if name in row else "–" for name, fmt in COLUMNS) + " |")
    print()
    for a, b in zip(rows, rows[1:]):
        if a["backend"] != b["backend"]:
            continue
        growth = b["chunks"] / a["chunks"]
        ratios = ", ".join(f"{name} ×{b[name] / a[name]:.1f}" for name in
                           ("insert/s", "bm25 build s", "hybrid p95 ms", "old check ms", "new check ms") if a[name])
        print(f"{b['backend']}: {a['chunks']:,} -> {b['chunks']:,} chunks (×{growth:.0f}): {ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts, ascending")
    parser.add_argument("--backends", default="embedded,server", help="embedded, server or both")
    parser.add_argument("--pool", type=int, default=1000, help="texts actually embedded")
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if any(size % PER_DOCUMENT for size in sizes):
        raise SystemExit(f"sizes must be multiples of {PER_DOCUMENT} (chunks per document)")
    quiet_libraries()
    began = time.perf_counter()
    embedder = load_embedder()
    library = Library(embedder, args.pool)
    lines = (ROOT / "corpus" / "testset.jsonl").read_text().splitlines()
    questions = [json.loads(line)["user_input"] for line in lines if line.strip()][: args.queries]
    vectors = Vectors(embedder, questions)
    print(f"model load and {args.pool} pool vectors: {time.perf_counter() - began:.1f}s "
          f"({library.embed_s:.1f}s embedding); {os.cpu_count()} cores", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            began = time.perf_counter()
            rows += run_backend(backend.strip(), sizes, library, vectors, questions, Path(tmp))
            print(f"{backend}: {time.perf_counter() - began:.0f}s", flush=True)
    print_table(rows)
    print(f"query embedding (not in hybrid above), p50 / p95: {1000 * pct(vectors.times, 0.5):.1f} / "
          f"{1000 * pct(vectors.times, 0.95):.1f} ms")


if __name__ == "__main__":
    main()
