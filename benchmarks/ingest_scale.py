"""Ingest at scale: a generated folder of realistic files (the corpus's sentences, resampled into
Markdown and text reports of 2-12 KB) ingested into a fresh index, then again unchanged.

    .venv/bin/python benchmarks/ingest_scale.py [--files 1000] [--ref GIT_REF]

Each ingest runs in a fresh process with the embedding model loaded first (its load is
reported apart). Times are wall and CPU (user + sys, all threads; the steadier figure on a
busy machine). Resident memory is sampled every 0.2 s: at the model load, at a quarter,
half, three quarters and the end of the ingest, and its peak; flat from a quarter on means
memory does not grow with the number of files. `--ref` also ingests the same folder with
that git commit's code (from `git archive`), for comparison in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys, threading, time
from pathlib import Path
from passage.settings import Settings
if Path("app/wiring.py").exists():  # the working directory is the tree being measured
    from app.runtime import quiet_libraries
    quiet_libraries()
    from app.wiring import build_ingestor, load_embedder
else:  # early versions built everything in rag.assistant
    from ingest.embedding import MiniLMEmbedder
    from rag.assistant import build_ingestor
    def load_embedder():
        return MiniLMEmbedder.load()

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

samples, stop = [], threading.Event()
def sample():
    while not stop.is_set():
        samples.append((time.perf_counter(), rss_mb()))
        time.sleep(0.2)

began = time.perf_counter()
embedder = load_embedder()
embedder.embed(["warm up"])
loaded, model_mb = time.perf_counter() - began, rss_mb()
ingestor = build_ingestor(Settings(data_dir=Path({data_dir!r})), embedder)
threading.Thread(target=sample, daemon=True).start()
t0, c0 = time.perf_counter(), time.process_time()
full = ingestor.ingest([Path({docs!r})])
t1, c1 = time.perf_counter(), time.process_time()
again = ingestor.ingest([Path({docs!r})])
c2 = time.process_time()
stop.set()
during = [mb for t, mb in samples if t <= t1]
def at(fraction):
    moment = t0 + fraction * (t1 - t0)
    return next((mb for t, mb in samples if t >= moment), during[-1])
print(json.dumps({{
    "model load s": loaded, "files": len(full.outcomes), "new": full.count("new"), "failed": len(full.failed),
    "chunks": full.chunks, "full s": full.seconds, "again s": again.seconds, "full cpu": c1 - c0, "again cpu": c2 - c1, "again unchanged": again.count("unchanged"),
    "again embedded": again.embedded, "model MB": model_mb,
    "rss MB": [at(f) for f in (0.25, 0.5, 0.75, 1.0)], "peak MB": max(during),
}}))
"""


def run(tree: Path, docs: Path, data_dir: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # cwd is the tree too, so its modules win over the installed ones
    proc = subprocess.run([sys.executable, "-c", WORKER.format(docs=str(docs), data_dir=str(data_dir))], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=6 * 3600)
    if proc.returncode:
        raise SystemExit(f"ingest in {tree} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--ref", help="also ingest with this git commit's code")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.cold_start import export
    from benchmarks.synthetic import write_library

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        began = time.perf_counter()
        size = write_library(tmp_path / "docs", args.files)
        print(f"generated {args.files} files, {size / 2**20:.1f} MB, in {time.perf_counter() - began:.1f}s")
        trees = [("this tree", ROOT)]
        if args.ref:
            trees.insert(0, (args.ref, export(args.ref, tmp_path / "ref")))
        results = {label: run(tree, tmp_path / "docs", tmp_path / f"data-{i}") for i, (label, tree) in enumerate(trees)}
    report(results)


def report(results: dict[str, dict]) -> None:
    rows = [
        ("files (new / failed)", lambda r: f"{r['files']} ({r['new']} / {r['failed']})"),
        ("chunks", lambda r: f"{r['chunks']:,}"),
        ("model load (excluded)", lambda r: f"{r['model load s']:.1f} s"),
        ("full ingest, wall / cpu", lambda r: f"{r['full s']:.1f} / {r['full cpu']:.1f} s"),
        ("chunks/s (wall)", lambda r: f"{r['chunks'] / r['full s']:.1f}"),
        ("unchanged re-run, wall / cpu", lambda r: f"{r['again s']:.2f} / {r['again cpu']:.2f} s"),
        ("re-run / full (wall, cpu)", lambda r: f"{100 * r['again s'] / r['full s']:.1f}%, {100 * r['again cpu'] / r['full cpu']:.1f}%"),
        ("re-run: unchanged / embedded", lambda r: f"{r['again unchanged']} / {r['again embedded']}"),
        ("RSS after model load", lambda r: f"{r['model MB']:.0f} MB"),
        ("RSS at 1/4, 1/2, 3/4, end", lambda r: ", ".join(f"{mb:.0f}" for mb in r["rss MB"]) + " MB"),
        ("peak RSS while ingesting", lambda r: f"{r['peak MB']:.0f} MB"),
    ]
    labels = list(results)
    print(f"{'':<30}" + "".join(f"{label:>28}" for label in labels))
    for name, cell in rows:
        print(f"{name:<30}" + "".join(f"{cell(results[label]):>28}" for label in labels))


if __name__ == "__main__":
    main()
