"""`passage serve` under parallel clients: p50/p95 of POST /ask at 1, 4, 8 and 16 clients, each
client asking the test set's questions one after another, with the server's answer queue as
configured (`PASSAGE_SERVE_ANSWERS`, default 2 at once) and, for comparison, with no bound.
A 503 (queue full) is counted, not timed.

    .venv/bin/python benchmarks/load_bench.py [--data-dir .passage] [--requests 48]

Without --data-dir the bundled corpus is ingested into a temporary folder first.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSAGE = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())"]
CLIENTS = (1, 4, 8, 16)
UNBOUNDED = {"PASSAGE_SERVE_ANSWERS": "256", "PASSAGE_SERVE_QUEUE": "0"}

from benchmarks.api_bench import free_port, pct, wait_healthy  # noqa: E402


def load(url: str, questions: list[str], clients: int, requests: int) -> tuple[list[float], int, float]:
    """(seconds of each answered request, how many got 503, wall seconds) for `requests` spread over `clients`."""
    import httpx

    times: list[float] = []
    busy = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        with httpx.Client(base_url=url, timeout=300) as http:
            start.wait()
            for i in range(n, requests, clients):
                t = time.perf_counter()
                reply = http.post("/ask", json={"question": questions[i % len(questions)]})
                took = time.perf_counter() - t
                with lock:
                    if reply.status_code == 503:
                        busy[0] += 1
                    else:
                        reply.raise_for_status()
                        times.append(took)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, busy[0], time.perf_counter() - began


def run(data_dir: Path, env: dict[str, str], questions: list[str], requests: int, label: str) -> None:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*PASSAGE, "serve", "--port", str(port), "--data-dir", str(data_dir)], cwd=data_dir.parent,
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            wait_healthy(http, proc)
            for q in questions[:max(requests, 3 * CLIENTS[-1])]:  # every question timed below, once: warm caches
                http.post("/ask", json={"question": q})
        print(f"\n{label}")
        print(f"{'clients':>8}{'answered':>10}{'503':>6}{'p50 ms':>10}{'p95 ms':>10}{'answers/s':>11}")
        for clients in CLIENTS:
            times, busy, wall = load(url, questions, clients, max(requests, 3 * clients))
            print(f"{clients:>8}{len(times):>10}{busy:>6}{1000 * pct(times, .5):>10.0f}{1000 * pct(times, .95):>10.0f}"
                  f"{len(times) / wall:>11.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, help="an ingested data dir (copied; default: ingest corpus/)")
    parser.add_argument("--requests", type=int, default=48, help="requests per client count (at least 3 per client)")
    args = parser.parse_args()

    from rag.evaluation import load_testset

    questions = [item.question for item in load_testset(ROOT / "corpus" / "testset.jsonl")]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        if args.data_dir:
            shutil.copytree(args.data_dir, data_dir)
        else:
            subprocess.run([*PASSAGE, "ingest", str(ROOT / "corpus"), "--data-dir", str(data_dir)], check=True,
                           stdout=subprocess.DEVNULL)
        print(f"POST /ask, {args.requests} requests per row (test-set questions), {os.cpu_count()} CPU cores")
        run(data_dir, {}, questions, args.requests, "answer queue as configured "
            f"(PASSAGE_SERVE_ANSWERS={os.environ.get('PASSAGE_SERVE_ANSWERS', 'default')}, "
            f"PASSAGE_SERVE_QUEUE={os.environ.get('PASSAGE_SERVE_QUEUE', 'default')})")
        run(data_dir, UNBOUNDED, questions, args.requests, "no bound (PASSAGE_SERVE_ANSWERS=256)")


if __name__ == "__main__":
    main()
