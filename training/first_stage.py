"""Fit the reader's first stage on labelled questions (the test set's `dev` split): weights.json.

1. Sentence model: a candidate is positive when it holds a reference quote of the question
   (rag.evaluation.metrics.holds, either way round for quotes longer than one sentence).
2. Question models: their features come from out-of-fold sentence probabilities (grouped by
   question, so no question scores its own training rows). `answerable` (gradient-boosted
   trees: the signals interact, e.g. a missing name matters only when the question names one)
   learns whether the question can be answered; `right` (trees too) whether the answer the
   reader gives, its one or two sentences, quotes the evidence (negative when it does not or
   the question is unanswerable): the `confidence` an answer reports.
3. Threshold: on out-of-fold answer probabilities, the highest cut that keeps abstentions on
   answerable questions at or under `max_false_abstention`.
The sentence model ranks every candidate so the reading model reads only the best few; the
answerable model's estimate is one of the signals the reading model's calibration combines.
Asking needs numpy alone (rag/reader/model.py).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from passage.errors import ConfigError, InputError
from rag.evaluation.metrics import abstention_curve, holds

from rag.reader.features import FEATURES, QUESTION_FEATURES
from rag.reader.model import Logistic, ReaderWeights, Tree, Trees
from rag.reader.reader import Reader

from .folds import FOLDS, by_position, fold_numbers, indices_by_document, rates
from .labels import Example

def utc_stamp() -> str:
    """The time now, as a weights file's version: `2026-12-02T17:24:13Z`."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fit_logistic(x: np.ndarray, y: np.ndarray, names: Sequence[str], c: float = 1.0, balanced: bool = False) -> Logistic:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise ConfigError("training the reader needs scikit-learn; run `pip install -e '.[train]'`") from None

    _both_outcomes(y)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced" if balanced else None)
    model.fit((x - mean) / scale, y)
    return Logistic(tuple(names), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def _both_outcomes(y: np.ndarray) -> None:
    if len(set(y.tolist())) < 2:
        raise InputError(f"training needs both outcomes among the examples: all {len(y)} are "
                         f"{'positive' if len(y) and y[0] else 'negative'}; add answerable and unanswerable items")


def fit_sentence_model(examples: Sequence[Example], c: float = 1.0) -> Logistic:
    rows = [e for e in examples if e.answerable and e.quotes and len(e.inputs.candidates)]
    y = np.concatenate([e.labels for e in rows]) if rows else np.zeros(0)
    if not y.any():
        raise InputError("no retrieved sentence holds a reference quote of an answerable item: training needs answerable "
                         "items whose reference_contexts are in the ingested documents")
    x = np.vstack([e.inputs.features for e in rows])
    return fit_logistic(x, y, FEATURES, c)


def out_of_fold_probabilities(examples: Sequence[Example], c: float = 1.0, fold: np.ndarray | None = None) -> list[np.ndarray]:
    """Each example's sentence probabilities from a model trained on the other folds (`fold`: each
    example's fold number; by default `fold_numbers(examples)`)."""
    fold = fold_numbers(examples) if fold is None else fold
    out: list[np.ndarray] = [np.zeros(0)] * len(examples)
    for held in np.unique(fold):
        model = fit_sentence_model([e for e, f in zip(examples, fold) if f != held], c)
        for i, e in enumerate(examples):
            if fold[i] == held:
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


def fit_trees(x: np.ndarray, y: np.ndarray, names: Sequence[str], trees: int = 100, depth: int = 2,
              rate: float = 0.05) -> Trees:
    """Gradient-boosted trees (scikit-learn), exported to numpy and checked to predict the same."""
    try:
        from sklearn.ensemble import GradientBoostingClassifier
    except ImportError:
        raise ConfigError("training the reader needs scikit-learn; run `pip install -e '.[train]'`") from None

    _both_outcomes(y)
    model = GradientBoostingClassifier(n_estimators=trees, max_depth=depth, learning_rate=rate, min_samples_leaf=10,
                                       subsample=0.8, random_state=0)
    model.fit(x, y)
    prior = float(np.clip(model.init_.class_prior_[1], 1e-9, 1 - 1e-9))
    exported = Trees(tuple(names), float(np.log(prior / (1 - prior))), rate,
                     tuple(_tree(estimator.tree_) for estimator in model.estimators_[:, 0]))
    if not np.allclose(exported.predict(x), model.predict_proba(x)[:, 1], atol=1e-9):
        raise ConfigError("the exported trees do not predict what scikit-learn's do; this scikit-learn version is not supported")
    return exported


def _tree(tree) -> Tree:
    leaf = tree.children_left < 0
    return Tree(np.where(leaf, -1, tree.feature).astype(int), np.where(leaf, 0.0, tree.threshold),
                tree.children_left.astype(int), tree.children_right.astype(int), tree.value[:, 0, 0].astype(float))


def fit_answerable_model(x: np.ndarray, y: np.ndarray) -> Trees:
    return fit_trees(x, y, QUESTION_FEATURES)


def answers_quoting(reader: Reader, examples: Sequence[Example], probs: Sequence[np.ndarray]) -> np.ndarray:
    """Per example, 1 when the sentences the reader would answer with hold a reference quote."""
    return np.array([float(_quotes(e, _answer(reader, e, p))) if _scorable(e, p) else 0.0 for e, p in zip(examples, probs)])


def _scorable(e: Example, p: np.ndarray) -> bool:
    """An answerable example with quotes and candidates: whether its answer quotes the evidence is known."""
    return bool(e.answerable and e.quotes and len(p))


def _answer(reader: Reader, e: Example, p: np.ndarray) -> tuple:
    return reader.choose(list(e.inputs.candidates), p, e.inputs.vectors)


def _quotes(e: Example, chosen: Sequence) -> bool:
    text = " ".join(c.text for c in chosen)
    return any(holds(q, text) for q in e.quotes)


def out_of_fold_confidence(x: np.ndarray, y: np.ndarray, fold: np.ndarray | None = None) -> np.ndarray:
    """Each row's answerability from a model trained on the other folds (by default `by_position`)."""
    fold = by_position(len(y)) if fold is None else fold
    out = np.zeros(len(y))
    for held in np.unique(fold):
        train = fold != held
        out[~train] = fit_answerable_model(x[train], y[train]).predict(x[~train])
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


def answer_shape(reader: Reader, examples: Sequence[Example], probs: Sequence[np.ndarray],
                 ratios: Sequence[float] = (0.3, 0.45, 0.6, 0.75, 0.9, 1.01)) -> tuple[float, dict]:
    """The runner-up ratio that quotes the evidence most often (ties: the shorter answers), and the table."""
    table = {}
    for ratio in ratios:
        reader.follow_ratio = ratio
        answers = [(e, _answer(reader, e, p)) for e, p in zip(examples, probs) if _scorable(e, p)]
        table[ratio] = (float(np.mean([_quotes(e, chosen) for e, chosen in answers])),
                        float(np.mean([len(chosen) for _, chosen in answers])))
    best = max(table, key=lambda r: (round(table[r][0], 2), -table[r][1]))
    reader.follow_ratio = best
    return best, {str(r): {"evidence_quoted": round(q, 4), "sentences": round(n, 3)} for r, (q, n) in table.items()}


def train(reader: Reader, examples: Sequence[Example], version: str, trained_on: str,
          max_false_abstention: float = 0.04, c: float = 1.0, by_document: bool = False) -> ReaderWeights:
    """All three models, the abstention threshold and the answer shape, from labelled examples.

    The figures (and the threshold) come from out-of-fold predictions: folds by question, or with
    `by_document` one fold per document, so they say what the reader does on documents it never saw.
    """
    fold = fold_numbers(examples, by_document)
    sentence = fit_sentence_model(examples, c)
    probs = out_of_fold_probabilities(examples, c, fold)
    x, right = answer_rows(reader, examples, probs)
    answerable = np.array([e.answerable for e in examples], dtype=float)
    answerable_model = fit_answerable_model(x, answerable)
    ratio, shapes = answer_shape(reader, examples, probs)
    quoted = answers_quoting(reader, examples, probs)
    right_model = fit_trees(x, quoted, QUESTION_FEATURES)
    held_out = out_of_fold_confidence(x, answerable, fold)
    threshold = pick_threshold(held_out, answerable, max_false_abstention)
    abstain = held_out < threshold
    figures = {
        "items": len(examples), "answerable": int(answerable.sum()),
        "folds": "one per document" if by_document else f"{FOLDS} by question",
        **rates(right, quoted, abstain, answerable),
        "by_document": {name: {"items": int(len(idx)), "answerable": int(answerable[idx].sum()),
                               **rates(right[idx], quoted[idx], abstain[idx], answerable[idx])}
                        for name, idx in indices_by_document(examples).items()},
        "answer_shapes": shapes, "abstention_curve": abstention_curve(answerable.astype(bool).tolist(), held_out.tolist()),
    }
    return ReaderWeights(version, sentence, answerable_model, right_model, threshold, ratio, trained_on, figures)
