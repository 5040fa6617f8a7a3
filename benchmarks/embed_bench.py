"""Embedding runtimes side by side: torch (sentence-transformers), onnx and onnx-int8 on the
bundled corpus's chunks (chunked as ingest chunks them) and the test set's questions.

    .venv/bin/python benchmarks/embed_bench.py [--rounds 3] [--batch-size 32]

Per runtime: embedding speed over the chunks in wall time and in this process's CPU time
(best of `--rounds`, runtimes interleaved so that load from other processes hits them
alike), its ratio to torch, the cosine difference
to torch's vectors (1 - cos) over every chunk and question, and retrieval agreement: for
each question, the overlap of the top-5 chunks by dense cosine search with torch's top 5.
Building the ONNX files (export, quantisation) and loading each runtime are timed apart.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.chunking import Chunker  # noqa: E402
from ingest.embedding import MiniLMEmbedder  # noqa: E402
from ingest.loaders import load_document  # noqa: E402
from ingest.onnx_embedding import OnnxEmbedder  # noqa: E402
from ingest.onnx_export import VARIANTS, build  # noqa: E402
from ingest.sections import split_sections  # noqa: E402
from passage.settings import Settings  # noqa: E402
from rag.evaluation import load_testset  # noqa: E402

TOP = 5


def corpus_chunks(embedder, settings: Settings) -> list[str]:
    """The texts ingest embeds for the bundled corpus (heading prefix + chunk)."""
    chunker = Chunker(embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
    texts = []
    for path in sorted((ROOT / "corpus").glob("*")):
        if path.suffix in (".txt", ".md") and not path.stem.startswith("README"):
            doc = load_document(path, settings.max_file_bytes)
            texts += [chunk.embed_text for chunk in chunker.chunk(doc, split_sections(doc))]
    return texts


def timed(action):
    began = time.perf_counter()
    result = action()
    return result, time.perf_counter() - began


def timed_cpu(action):
    """Result, wall seconds and this process's CPU seconds (all threads) of `action()`."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def top_ids(questions: np.ndarray, chunks: np.ndarray) -> np.ndarray:
    """Indices of each question's `TOP` nearest chunks by cosine (the vectors are unit length)."""
    return np.argsort(-(questions @ chunks.T), axis=1, kind="stable")[:, :TOP]


def load_runtimes(cache: Path, batch_size: int) -> tuple[dict, list[tuple[str, float]]]:
    """The three embedders, and how long building and loading each took."""
    embedders, setup = {}, []
    embedders["torch"], seconds = timed(lambda: MiniLMEmbedder.load(batch_size))
    setup.append(("torch: load sentence-transformers model", seconds))
    for variant in VARIANTS:
        _, seconds = timed(lambda: build(cache, variant))
        setup.append((f"{variant}: {'export from torch' if variant == 'onnx' else 'quantise the onnx file'}", seconds))
        embedders[variant], seconds = timed(lambda: OnnxEmbedder.load(cache, variant, batch_size))
        setup.append((f"{variant}: load from the cache", seconds))
    return embedders, setup


def best_times(embedders: dict, texts: list[str], rounds: int) -> tuple[dict, dict, dict]:
    """Per runtime: the vectors of `texts`, and the best wall and CPU seconds over `rounds`."""
    wall = {name: float("inf") for name in embedders}
    cpu, vectors = dict(wall), {}
    for embedder in embedders.values():
        embedder.embed(texts[:8])  # warm up
    for _ in range(rounds):
        for name, embedder in embedders.items():
            result, seconds, cpu_seconds = timed_cpu(lambda: embedder.embed(texts))
            vectors[name] = np.array(result)
            wall[name], cpu[name] = min(wall[name], seconds), min(cpu[name], cpu_seconds)
    return vectors, wall, cpu


def print_table(tokens: int, wall: dict, cpu: dict, chunk_vectors: dict, question_vectors: dict) -> None:
    header = (f"{'runtime':<11}{'wall s':>8}{'tokens/s':>10}{'vs torch':>10}{'CPU s':>8}{'tokens/CPU s':>14}{'vs torch':>10}"
              f"{'max 1-cos':>11}{'mean 1-cos':>12}{'top-5 overlap':>15}{'same top-1':>12}")
    print(header)
    print("-" * len(header))
    reference = top_ids(question_vectors["torch"], chunk_vectors["torch"])
    base = np.concatenate([chunk_vectors["torch"], question_vectors["torch"]])
    for name in wall:
        speed = (f"{name:<11}{wall[name]:>8.2f}{tokens / wall[name]:>10,.0f}{wall['torch'] / wall[name]:>9.2f}x"
                 f"{cpu[name]:>8.2f}{tokens / cpu[name]:>14,.0f}{cpu['torch'] / cpu[name]:>9.2f}x")
        if name == "torch":
            print(f"{speed}  (reference)")
            continue
        diff = 1 - np.sum(np.concatenate([chunk_vectors[name], question_vectors[name]]) * base, axis=1)
        found = top_ids(question_vectors[name], chunk_vectors[name])
        overlap = np.mean([len(set(a) & set(b)) / TOP for a, b in zip(reference, found)])
        same_first = np.mean(reference[:, 0] == found[:, 0])
        print(f"{speed}{np.max(np.abs(diff)):>11.2e}{np.mean(diff):>12.2e}{overlap:>15.3f}{same_first:>12.3f}")
    print("\nCPU seconds count every thread of this process; with other work on the machine they are steadier than wall time.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        embedders, setup = load_runtimes(Path(cache), args.batch_size)
    chunks = corpus_chunks(embedders["torch"], Settings())
    questions = [item.question for item in load_testset(ROOT / "corpus" / "testset.jsonl")]
    tokens = sum(min(n + 2, embedders["torch"].max_tokens) for n in embedders["torch"].count_tokens(chunks))
    chunk_vectors, wall, cpu = best_times(embedders, chunks, args.rounds)
    question_vectors = {name: np.array(embedder.embed(questions)) for name, embedder in embedders.items()}

    print(f"{len(chunks)} chunks, {tokens:,} word pieces (incl. [CLS]/[SEP]); {len(questions)} questions; "
          f"best of {args.rounds} rounds, batch size {args.batch_size}")
    for label, seconds in setup:
        print(f"  {label:<42}{seconds:>7.2f} s")
    print()
    print_table(tokens, wall, cpu, chunk_vectors, question_vectors)


if __name__ == "__main__":
    main()
