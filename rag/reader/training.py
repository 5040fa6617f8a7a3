"""Fit the reader's two models on labelled questions (the test set's `dev` split).

1. Sentence model: a candidate is positive when it holds a reference quote of the question
   (rag.evaluation.metrics.holds, either way round for quotes longer than one sentence).
2. Answer model: its features come from out-of-fold sentence probabilities (grouped by
   question, so no question scores its own training rows); an item is positive when the lead
   sentence is a positive, negative when the lead is wrong or the question is unanswerable.
3. Threshold: on out-of-fold answer probabilities, the highest cut that keeps abstentions on
   answerable questions at or under `max_false_abstention`.
scikit-learn is imported here only; asking needs numpy alone (see model.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rag.evaluation.metrics import holds

from .features import FEATURES, QUESTION_FEATURES
from .model import Logistic
from .reader import Inputs, Reader

FOLDS = 5
MIN_SENTENCE_WORDS_INSIDE_QUOTE = 6


@dataclass(frozen=True)
class Example:
    """One question's reader inputs, its gold quotes, and whether it can be answered."""

    id: str
    inputs: Inputs
    quotes: tuple[str, ...]
    source: str
    answerable: bool

    @property
    def labels(self) -> np.ndarray:
        return np.array([is_evidence(c.text, c.passage.chunk.source, self.quotes, self.source)
                         for c in self.inputs.candidates], dtype=float)


def is_evidence(sentence: str, source: str, quotes: Sequence[str], gold_source: str = "") -> bool:
    """A sentence states the answer when it holds a quote, or lies inside a longer one."""
    if gold_source and source != gold_source:
        return False
    return any(holds(q, sentence) or (len(sentence.split()) >= MIN_SENTENCE_WORDS_INSIDE_QUOTE and len(q) > len(sentence)
                                      and holds(sentence, q)) for q in quotes)


def fit_logistic(x: np.ndarray, y: np.ndarray, names: Sequence[str], c: float = 1.0, balanced: bool = False) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)
    model.fit((x - mean) / scale, y)
    return Logistic(tuple(names), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def fit_sentence_model(examples: Sequence[Example], c: float = 1.0) -> Logistic:
    rows = [e for e in examples if e.answerable and e.quotes and len(e.inputs.candidates)]
    x = np.vstack([e.inputs.features for e in rows])
    y = np.concatenate([e.labels for e in rows])
    return fit_logistic(x, y, FEATURES, c)


def out_of_fold_probabilities(examples: Sequence[Example], c: float = 1.0, folds: int = FOLDS) -> list[np.ndarray]:
    """Each example's sentence probabilities from a model trained on the other folds."""
    out: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for fold in range(folds):
        train = [e for i, e in enumerate(examples) if i % folds != fold]
        model = fit_sentence_model(train, c)
        for i, e in enumerate(examples):
            if i % folds == fold:
                out[i] = model.predict(e.inputs.features)
    return out


def answer_rows(reader: Reader, examples: Sequence[Example], probs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Question-level features and labels (1 = the lead sentence states the answer)."""
    x, y = [], []
    for e, p in zip(examples, probs):
        row, lead = reader.judge(e.inputs, p)
        x.append(row)
        right = lead is not None and e.answerable and bool(e.labels[int(np.argmax(p))]) if len(p) else False
        y.append(float(right))
    return np.vstack(x), np.array(y)


def fit_answer_model(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> Logistic:
    return fit_logistic(x, y, QUESTION_FEATURES, c)


def out_of_fold_confidence(x: np.ndarray, y: np.ndarray, c: float = 1.0, folds: int = FOLDS) -> np.ndarray:
    out = np.zeros(len(y))
    for fold in range(folds):
        train = np.arange(len(y)) % folds != fold
        out[~train] = fit_answer_model(x[train], y[train], c).predict(x[~train])
    return out


def pick_threshold(confidence: np.ndarray, answerable: np.ndarray, max_false_abstention: float) -> float:
    """The highest cut with abstentions on answerable items at or under the limit.

    `pick_threshold(np.array([.1, .5, .9, .2]), np.array([1, 1, 1, 0]), 0.34) == 0.3` (midway
    between the lowest answerable confidence it may give up and the next).
    """
    scores = np.sort(confidence[answerable.astype(bool)])
    allowed = int(np.floor(max_false_abstention * len(scores) + 1e-9))
    if len(scores) == 0:
        return 0.0
    if allowed >= len(scores):
        return float(scores[-1])
    low = scores[allowed - 1] if allowed > 0 else 0.0
    return float(round((low + scores[allowed]) / 2, 6))


def curve(confidence: np.ndarray, answerable: np.ndarray, steps: int = 21) -> list[dict]:
    """Abstention precision / recall / false abstention at evenly spaced thresholds."""
    rows = []
    answerable = answerable.astype(bool)
    for t in np.linspace(0, 1, steps):
        abstain = confidence < t
        hits = int((abstain & ~answerable).sum())
        rows.append({"threshold": round(float(t), 3),
                     "precision": round(hits / abstain.sum(), 4) if abstain.sum() else None,
                     "recall": round(hits / (~answerable).sum(), 4) if (~answerable).sum() else None,
                     "false_abstention": round(float((abstain & answerable).sum() / answerable.sum()), 4) if answerable.sum() else None})
    return rows
