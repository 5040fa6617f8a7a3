"""Choose `support_threshold` from a test set: `python -m rag.llm.calibrate --data-dir .passage`.

Only the `dev` split is read when the file has splits.

Supported pairs: each answerable item's reference answer against the chunk holding its
reference quote. Unsupported pairs, both hard: the same answer against the other retrieved
passages from elsewhere in the library (same topic, wrong place), and against the chunk of
another item from the same document (right place, different claim). The threshold kept is
the one with the best balanced accuracy (mean of the two recall rates); ties go to the
higher, stricter value.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from passage.models import Passage

from .verify import Verifier


@dataclass(frozen=True)
class Calibration:
    threshold: float
    balanced_accuracy: float
    supported_recall: float
    unsupported_recall: float
    pairs: tuple[int, int]


def pair_scores(assistant, testset: Path, k: int = 5) -> tuple[list[float], list[float]]:
    """Support scores of (supported, unsupported) pairs built from the test set."""
    verifier = Verifier(assistant.answerer("extractive").relevance, 0.5)
    chunks = assistant.retriever.store.chunks()
    items = [json.loads(line) for line in testset.read_text(encoding="utf-8").splitlines() if line.strip()]
    if any(item.get("split") for item in items):  # tune on dev only; test is for reporting
        items = [item for item in items if item.get("split") == "dev"]
    golds = []
    for item in items:
        if item.get("answerable", True) and item.get("reference") and item.get("reference_contexts"):
            quote = _norm(item["reference_contexts"][0])
            gold = next((c for c in chunks if c.source == item.get("source") and quote in _norm(c.text)), None)
            if gold is not None:
                golds.append((item, gold))
    good, bad = [], []
    for item, gold in golds:
        claim = item["reference"]
        good.append(verifier.support(claim, Passage(gold, 1.0))[0])
        for p in assistant.retriever.retrieve(item["user_input"], k):
            if (p.chunk.source, p.chunk.section) != (gold.source, gold.section):
                bad.append(verifier.support(claim, p)[0])
        other = next((g for i, g in golds if g.source == gold.source and g.section != gold.section), None)
        if other is not None:
            bad.append(verifier.support(claim, Passage(other, 1.0))[0])
    return good, bad


def choose(good: Sequence[float], bad: Sequence[float]) -> Calibration:
    """`choose([0.8, 0.7], [0.4])` -> threshold 0.7 (both recalls 1.0, the highest such value)."""
    best = None
    for t in sorted(set(good) | set(bad)):
        tpr = sum(s >= t for s in good) / len(good)
        tnr = sum(s < t for s in bad) / len(bad)
        row = Calibration(round(t, 4), round((tpr + tnr) / 2, 4), round(tpr, 4), round(tnr, 4), (len(good), len(bad)))
        if best is None or row.balanced_accuracy >= best.balanced_accuracy:
            best = row
    return best


def main(argv: list[str] | None = None) -> None:
    """The command line; like every entry point it builds the object graph through app.wiring."""
    from app.wiring import build_assistant
    from passage.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--testset", type=Path, default=Path("corpus/testset.jsonl"))
    args = parser.parse_args(argv)
    good, bad = pair_scores(build_assistant(Settings(data_dir=args.data_dir)), args.testset)
    print(choose(good, bad))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[*_`]", "", text).split()).lower()


if __name__ == "__main__":
    main()
