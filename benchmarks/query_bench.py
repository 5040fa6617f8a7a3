"""Query latency: warm retrieval and whole-answer p50/p95 over the test set, the LangChain
tutorial pipeline's query latency in the same run, and the cold start of `passage ask`
split into imports, model load and answering.

    .venv/bin/python benchmarks/query_bench.py [--mode hybrid] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD = """
import time, json
t0 = time.perf_counter()
from passage.settings import Settings
from rag.assistant import build_assistant
from ingest.embedding import MiniLMEmbedder
import sentence_transformers, chromadb
t1 = time.perf_counter()
embedder = MiniLMEmbedder.load()
t2 = time.perf_counter()
answer = build_assistant(Settings(data_dir={data_dir!r}), embedder).ask("How old was Yeonmi Park when she escaped?")
t3 = time.perf_counter()
print(json.dumps({{"imports": t1 - t0, "model load": t2 - t1, "answering": t3 - t2}}))
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="hybrid")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from benchmarks.baseline import build, split
    from ingest.embedding import MiniLMEmbedder
    from passage.settings import Settings
    from rag.assistant import build_assistant
    from rag.evaluation import load_testset

    items = load_testset(ROOT / "corpus" / "testset.jsonl")
    embedder = MiniLMEmbedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        assistant = build_assistant(Settings(data_dir=data_dir, mode=args.mode), embedder)
        assistant.add([ROOT / "corpus"])
        baseline = build(split(ROOT / "corpus"), embedder, Path(tmp) / "baseline")
        retrieve, whole, base = [], [], []
        for _ in range(args.rounds):
            for item in items:
                t = time.perf_counter()
                assistant.retriever.retrieve(item.question, 5, args.mode)
                retrieve.append(time.perf_counter() - t)
                t = time.perf_counter()
                assistant.ask(item.question, item.history)
                whole.append(time.perf_counter() - t)
                t = time.perf_counter()
                baseline.similarity_search(item.question, k=4)
                base.append(time.perf_counter() - t)
        cold = json.loads(subprocess.run([sys.executable, "-c", COLD.format(data_dir=str(data_dir))], cwd=ROOT,
                                         capture_output=True, text=True, check=True).stdout)
    print(f"warm latency over {len(items)} questions x {args.rounds} rounds (ms), mode {args.mode}")
    print(f"{'':<34}{'p50':>8}{'p95':>8}{'mean':>8}")
    for name, values in (("passage retrieval", retrieve), ("passage whole answer", whole), ("langchain tutorial query (k=4)", base)):
        print(f"{name:<34}{1000 * pct(values, .5):>8.1f}{1000 * pct(values, .95):>8.1f}{1000 * statistics.mean(values):>8.1f}")
    print(f"retrieval p50, passage / baseline: {pct(retrieve, .5) / pct(base, .5):.2f}")
    print("cold start of one question (s): " + ", ".join(f"{k} {v:.2f}" for k, v in cold.items())
          + f", total {sum(cold.values()):.2f}")


if __name__ == "__main__":
    main()
