"""How training splits its examples to judge itself out of fold, and its figures per group.

Folds go by question (`i % FOLDS`) or, to judge documents the models never saw, one per
document. Every function here is pure.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from passage.errors import InputError

if TYPE_CHECKING:
    from .labels import Example

FOLDS = 5


def document_of(e: "Example") -> str:
    """The document an item is about: its source, or for one without (most unanswerable items) the
    source of its best-ranked retrieved passage; "" when nothing was retrieved."""
    if e.source:
        return e.source
    return e.inputs.pool[0].chunk.source if e.inputs.pool else ""


def by_position(count: int, folds: int = FOLDS) -> np.ndarray:
    """Folds by question, in turn: `by_position(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]`."""
    return np.arange(count) % folds


def fold_numbers(examples: Sequence["Example"], by_document: bool = False, folds: int = FOLDS) -> np.ndarray:
    """Each example's fold: by position (`i % folds`), or one fold per document, so every figure
    computed out of fold is on documents the models never saw (what a reader trained here does on
    documents added later)."""
    if not by_document:
        return by_position(len(examples), folds)
    documents = [document_of(e) for e in examples]
    names = sorted(set(documents))
    answered = sorted({d for d, e in zip(documents, examples) if e.answerable})
    if len(answered) < 2:  # holding out the one document would leave nothing to learn from
        count = sum(e.answerable for e in examples)
        raise InputError(f"holding out whole documents needs answerable items about two or more documents; all {count} "
                         f"are about {answered[0] if answered and answered[0] else 'no retrieved document'}")
    return np.array([names.index(d) for d in documents])


def rates(right: np.ndarray, quoted: np.ndarray, abstain: np.ndarray, answerable: np.ndarray) -> dict[str, float | None]:
    """Out-of-fold shares; None where a group has no item to share over (an all-answerable document
    has no abstention recall).

    `rates(np.array([1., 0]), np.array([1., 1]), np.array([False, True]), np.array([1., 1]))` gives
    lead right 0.5, answer quotes evidence 1.0, abstention recall None, false abstention 0.5.
    """
    n_answerable, n_unanswerable = int(answerable.sum()), int((answerable == 0).sum())
    share = lambda hits, n: round(float(hits) / n, 4) if n else None  # noqa: E731
    return {
        "lead_right_out_of_fold": share(right.sum(), n_answerable),
        "answer_quotes_evidence_out_of_fold": share(quoted.sum(), n_answerable),
        "abstention_recall_out_of_fold": share((abstain & (answerable == 0)).sum(), n_unanswerable),
        "false_abstention_out_of_fold": share((abstain & (answerable == 1)).sum(), n_answerable),
    }


def indices_by_document(examples: Sequence["Example"]) -> dict[str, np.ndarray]:
    """Example indices per document (document_of), largest first."""
    groups: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        groups.setdefault(document_of(e) or "(nothing retrieved)", []).append(i)
    return {name: np.array(idx) for name, idx in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
