"""Fit the reader's calibration on labelled questions (a part of the test set's dev split).

For each question the sentence model ranks the pool's candidates and the reading model reads
the best `keep`. Fitted here, all logistic (rag/reader/calibration.py):
- `sentence`: a candidate's final probability from the two stages' logits (label: evidence);
- `answerable`: the documents answer the question, from the question's signals;
- `right`: the answer the reader gives quotes the evidence (the confidence shown).
The abstention threshold is the highest cut that keeps abstentions on answerable questions at
or under `max_false_abstention` on out-of-fold answerability (GroupKFold by question). The
runner-up ratio (how close a second sentence must score to join the answer) is the one that
quotes the evidence most often. Reported figures are out of fold too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rag.evaluation.metrics import abstention_curve, holds
from rag.reader.calibration import SENTENCE, SIGNALS, Calibration, logit, signals
from rag.reader.model import Logistic

from .first_stage import pick_threshold
from .labels import Example

FOLDS = 5


@dataclass(frozen=True)
class Read:
    """One question read by both stages: the candidates read, both stages' logits for them."""

    example: Example
    read: np.ndarray
    first: np.ndarray
    reading: np.ndarray
    answerable: float = 0.0  # the first stage's estimate


def read_all(reader, examples: Sequence[Example], keep: int) -> list[Read]:
    out = []
    for e in examples:
        cands = e.inputs.candidates
        if not cands:
            out.append(Read(e, np.zeros(0, dtype=int), np.zeros(0), np.zeros(0)))
            continue
        first = reader.weights.sentence.predict(e.inputs.features)
        read = np.argsort(-first, kind="stable")[:keep]
        reading = logit(reader.scorer.score(e.inputs.question, [cands[i] for i in read]))
        out.append(Read(e, read, logit(first[read]), reading, reader.first_answerable(e.inputs)))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, names: Sequence[str], c: float = 1.0) -> Logistic:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if len(set(np.asarray(y).tolist())) < 2:  # one outcome only (a tiny set): a constant model
        rate = float(np.clip(np.mean(y) if len(y) else 0.5, 0.01, 0.99))
        return Logistic(tuple(names), mean, scale, np.zeros(len(names)), float(np.log(rate / (1 - rate))))
    model = LogisticRegression(C=c, max_iter=2000).fit((x - mean) / scale, y)
    return Logistic(tuple(names), mean, scale, model.coef_[0].copy(), float(model.intercept_[0]))


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(y))
    for train, held in GroupKFold(n_splits=min(FOLDS, len(set(groups)))).split(x, y, list(groups)):
        out[held] = fit_logistic(x[train], y[train], SIGNALS).predict(x[held])
    return out


def _probs(r: Read, sentence: Logistic) -> np.ndarray:
    probs = np.zeros(len(r.example.inputs.candidates))
    if len(r.read):
        probs[r.read] = np.maximum(sentence.predict(np.c_[r.first, r.reading]), 1e-9)
    return probs


def _quotes(e: Example, chosen) -> bool:
    text = " ".join(c.text for c in chosen)
    return any(holds(q, text) for q in e.quotes)


def _rate(flags: np.ndarray, where: np.ndarray) -> float | None:
    return round(float(flags[where].mean()), 4) if where.any() else None


def calibrate(reader, reads: Sequence[Read], keep: int, max_false_abstention: float = 0.04,
              ratios: Sequence[float] = (0.3, 0.5, 0.7, 0.9, 1.01)) -> tuple[Calibration, dict]:
    """The calibration and its figures (out of fold where a model judges its own fit)."""
    labelled = [r for r in reads if r.example.answerable and len(r.read)]
    x = np.vstack([np.c_[r.first, r.reading] for r in labelled])
    y = np.concatenate([r.example.labels[r.read] for r in labelled])
    sentence = fit_logistic(x, y, SENTENCE)
    probs = [_probs(r, sentence) for r in reads]
    scorable = np.array([bool(r.example.answerable and r.example.quotes and len(r.read)) for r in reads])
    chosen_by = {}
    for ratio in ratios:
        reader.follow_ratio = ratio
        chosen_by[ratio] = [reader.choose(list(r.example.inputs.candidates), p, r.example.inputs.vectors) if s else ()
                            for r, p, s in zip(reads, probs, scorable)]
    table = {k: (float(np.mean([_quotes(r.example, c) for r, c, s in zip(reads, v, scorable) if s])),
                 float(np.mean([len(c) for c, s in zip(v, scorable) if s]))) for k, v in chosen_by.items()}
    ratio = max(table, key=lambda k: (round(table[k][0], 2), -table[k][1]))
    reader.follow_ratio = ratio
    rows = np.vstack([signals(logit(p[p > 0]), r.reading, r.answerable, r.example.inputs.unknown) for r, p in zip(reads, probs)])
    answerable = np.array([r.example.answerable for r in reads], dtype=float)
    quoted = np.array([s and _quotes(r.example, c) for r, c, s in zip(reads, chosen_by[ratio], scorable)], dtype=float)
    has = np.array([s and bool(r.example.labels.any()) for r, s in zip(reads, scorable)])
    lead = np.array([h and bool(r.example.labels[int(np.argmax(p))]) for r, p, h in zip(reads, probs, has)], dtype=float)
    first_lead = np.array([h and bool(r.example.labels[r.read[0]]) for r, h in zip(reads, has)], dtype=float)
    reading_lead = np.array([h and bool(r.example.labels[r.read[int(np.argmax(r.reading))]]) for r, h in zip(reads, has)],
                            dtype=float)
    held = out_of_fold(rows, answerable, [r.example.id for r in reads])
    threshold = pick_threshold(held, answerable, max_false_abstention)
    abstain = held < threshold
    ans, unans = answerable == 1, answerable == 0
    figures = {
        "items": len(reads), "answerable": int(ans.sum()), "with_evidence_read": int(has.sum()),
        "lead_right": _rate(lead, has), "lead_right_first_stage": _rate(first_lead, has),
        "lead_right_reading_model": _rate(reading_lead, has),
        "evidence_quoted": _rate(quoted, ans), "abstention_recall": _rate(abstain, unans),
        "false_abstention": _rate(abstain, ans),
        "answer_shapes": {str(k): {"evidence_quoted": round(q, 4), "sentences": round(n, 3)} for k, (q, n) in table.items()},
        "abstention_curve": abstention_curve(answerable.astype(bool).tolist(), held.tolist()),
    }
    calibration = Calibration(sentence, fit_logistic(rows, answerable, SIGNALS), fit_logistic(rows, quoted, SIGNALS),
                              threshold, ratio, keep)
    return calibration, figures
