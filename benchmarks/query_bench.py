"""Query latency: warm retrieval and whole-answer p50/p95 over the test set (the reader: sentence
model, then the reading model over its best candidates; and the similarity-only extractive
answerer), and the LangChain tutorial pipeline's query latency in the same run. One untimed pass first fills the caches (the
reader's sentence vectors), so every timed round is warm. The cold start of `passage ask` is
benchmarks/cold_start.py.

    .venv/bin/python benchmarks/query_bench.py [--mode hybrid] [--rounds 3] [--split test]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--split", default=None, help="only this split of the test set (default: every item)")
    args = parser.parse_args()

    from app.runtime import quiet_libraries
    from app.wiring import build_services, load_embedder
    from benchmarks.baseline import build, split
    from passage.settings import Settings
    from rag.evaluation import load_testset
    from rag.evaluation.metrics import percentile

    quiet_libraries()
    items = load_testset(ROOT / "corpus" / "testset.jsonl", args.split)
    embedder = load_embedder()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        assistant, library = build_services(Settings(data_dir=data_dir, mode=args.mode), embedder)
        library.add([ROOT / "corpus"])
        baseline = build(split(ROOT / "corpus"), embedder, Path(tmp) / "baseline")
        retrieve, whole, extractive, base = [], [], [], []
        for item in items:  # warm-up, untimed
            assistant.ask(item.question, item.history)
            assistant.ask(item.question, item.history, answerer="extractive")
        for _ in range(args.rounds):
            for item in items:
                t = time.perf_counter()
                assistant.retriever.retrieve(item.question, 5, args.mode)
                retrieve.append(time.perf_counter() - t)
                t = time.perf_counter()
                assistant.ask(item.question, item.history)
                whole.append(time.perf_counter() - t)
                t = time.perf_counter()
                assistant.ask(item.question, item.history, answerer="extractive")
                extractive.append(time.perf_counter() - t)
                t = time.perf_counter()
                baseline.similarity_search(item.question, k=4)
                base.append(time.perf_counter() - t)
    print(f"warm latency over {len(items)} questions x {args.rounds} rounds (ms), mode {args.mode}")
    reader = assistant.answering("reader").answerer.reader
    print(f"reader: reading model {reader.scorer.stamp.version} ({reader.scorer.stamp.onnx}), reads {reader.calibration.keep} "
          "candidates a question")
    print(f"{'':<46}{'p50':>8}{'p95':>8}{'mean':>8}")
    for name, values in (("passage retrieval", retrieve), ("passage whole answer (reader)", whole),
                         ("passage whole answer (extractive)", extractive), ("langchain tutorial query (k=4)", base)):
        print(f"{name:<46}{1000 * percentile(values, 50):>8.1f}{1000 * percentile(values, 95):>8.1f}{1000 * statistics.mean(values):>8.1f}")
    print(f"retrieval p50, passage / baseline: {percentile(retrieve, 50) / percentile(base, 50):.2f}")
    print(f"whole answer p50, reader / extractive: {percentile(whole, 50) / percentile(extractive, 50):.2f}")


if __name__ == "__main__":
    main()
