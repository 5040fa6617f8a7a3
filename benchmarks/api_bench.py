"""What the HTTP API adds to an answer: the test set's questions asked in-process
(`Assistant.ask`) and through a running `passage serve` (POST /ask), p50/p95 each, a bare
GET /health for the HTTP round trip alone, and the server's start-up (model load included)
until /health answers.

    .venv/bin/python benchmarks/api_bench.py --data-dir .passage [--rounds 2]

The server runs on a copy of the data dir, so the two processes never share a store.
"""
from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVE = [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main())", "serve"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(client, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"passage serve exited with {proc.returncode}")
        try:
            if client.get("/health").status_code == 200:
                return
        except Exception:  # not listening yet
            pass
        time.sleep(0.1)
    raise SystemExit("passage serve did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path(".passage"))
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import httpx

    from app.runtime import quiet_libraries
    from app.wiring import build_assistant
    from passage.settings import Settings
    from rag.evaluation import load_testset

    quiet_libraries()
    items = load_testset(ROOT / "corpus" / "testset.jsonl")
    assistant = build_assistant(Settings(data_dir=args.data_dir))
    timings: dict[str, list[float]] = {"in-process Assistant.ask": [], "POST /ask": [], "GET /health (HTTP alone)": []}
    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "data"
        shutil.copytree(args.data_dir, served)
        port = free_port()
        began = time.perf_counter()
        proc = subprocess.Popen([*SERVE, "--port", str(port), "--data-dir", str(served)], cwd=tmp,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                wait_healthy(client, proc)
                startup = time.perf_counter() - began
                calls = {
                    "in-process Assistant.ask": lambda item: assistant.ask(item.question, item.history),
                    "POST /ask": lambda item: client.post("/ask", json={"question": item.question, "history": list(item.history)}),
                    "GET /health (HTTP alone)": lambda item: client.get("/health"),
                }
                # Whole passes, so that each process's caches warm the same way for both sides.
                for _ in range(args.rounds):
                    for name, call in calls.items():
                        for item in items:
                            t = time.perf_counter()
                            call(item)
                            timings[name].append(time.perf_counter() - t)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"latency over {len(items)} questions x {args.rounds} rounds (ms)")
    print(f"{'':<30}{'p50':>8}{'p95':>8}")
    for name, values in timings.items():
        print(f"{name:<30}{1000 * pct(values, .5):>8.1f}{1000 * pct(values, .95):>8.1f}")
    base = pct(timings["in-process Assistant.ask"], .5)
    print(f"HTTP overhead at p50: {1000 * (pct(timings['POST /ask'], .5) - base):.1f} ms")
    print(f"server start-up to a healthy /health: {startup:.1f} s")


if __name__ == "__main__":
    main()
