"""Ingest speed: full ingest and unchanged re-ingest of the corpus, against the LangChain
tutorial pipeline on the same corpus and model, in the same run.

    .venv/bin/python benchmarks/ingest_bench.py [CORPUS_DIR]

Model load is timed apart and excluded from both pipelines' figures.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.runtime import quiet_libraries  # noqa: E402
from app.wiring import build_ingestor, load_embedder  # noqa: E402
from benchmarks.baseline import build, split  # noqa: E402
from passage.settings import Settings  # noqa: E402


def main(corpus: Path) -> None:
    quiet_libraries()
    began = time.perf_counter()
    embedder = load_embedder()
    print(f"model load: {time.perf_counter() - began:.2f}s (excluded below)")
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        ingestor = build_ingestor(Settings(data_dir=Path(tmp) / "passage"), embedder)
        full = ingestor.ingest([corpus])
        tokens = sum(c.tokens for c in ingestor.store.chunks())
        again = ingestor.ingest([corpus])
        began = time.perf_counter()
        chunks = split(corpus)
        counts = embedder.count_tokens([c.page_content for c in chunks])
        build(chunks, embedder, Path(tmp) / "baseline")
        base_s = time.perf_counter() - began
    base_tokens = sum(min(n + 2, embedder.max_tokens) for n in counts)
    truncated = sum(1 for n in counts if n + 2 > embedder.max_tokens)
    ours_per_tok = full.seconds / tokens * 1e6
    base_per_tok = base_s / base_tokens * 1e6
    print(f"{'pipeline':<22}{'chunks':>8}{'tokens':>9}{'seconds':>9}{'chunks/s':>10}{'tokens/s':>10}{'µs/token':>10}")
    print(f"{'passage (full)':<22}{full.chunks:>8}{tokens:>9}{full.seconds:>9.2f}{full.chunks / full.seconds:>10.1f}{tokens / full.seconds:>10.0f}{ours_per_tok:>10.1f}")
    print(f"{'langchain tutorial':<22}{len(chunks):>8}{base_tokens:>9}{base_s:>9.2f}{len(chunks) / base_s:>10.1f}{base_tokens / base_s:>10.0f}{base_per_tok:>10.1f}")
    print(f"time per embedded token, passage / baseline: {ours_per_tok / base_per_tok:.2f}")
    print(f"baseline chunks cut at {embedder.max_tokens} word pieces (tail never embedded): {truncated} of {len(chunks)}")
    print(f"unchanged re-ingest: {again.seconds:.3f}s = {100 * again.seconds / full.seconds:.1f}% of a full ingest "
          f"({again.count('unchanged')} unchanged, {again.embedded} embedded)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "corpus")
