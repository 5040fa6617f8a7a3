"""Adapt the reading model to the library's own questions: groups from the labelled dev split.

Each answerable item whose evidence is among its candidates gives a group: its first evidence
sentence (positive) and the other candidates the sentence model ranks best (negatives: the
hard ones, on topic and near the answer). An unanswerable item gives a group of negatives
only, so the model learns to stay low when the documents do not say.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from rag.reader.model import Logistic
from rag.reader.pairs import pair_text

from .examples import Group, Pair
from .labels import Example


def groups_from(examples: Sequence[Example], first: Logistic, keep: int, negatives: int = 5) -> list[Group]:
    """Training groups for `examples`, negatives drawn from the sentence model's best `keep`."""
    out = []
    for e in examples:
        cands = e.inputs.candidates
        if not cands:
            continue
        order = np.argsort(-first.predict(e.inputs.features), kind="stable")[:keep]
        labels = e.labels if e.answerable else np.zeros(len(cands))
        text = lambda i: pair_text(cands[i].text, cands[i].heading, cands[i].previous)  # noqa: E731
        wrong = [i for i in order if not labels[i]][:negatives]
        if e.answerable:
            gold = np.flatnonzero(labels)
            if not len(gold):
                continue
            pairs = (Pair(e.inputs.question, text(int(gold[0])), 1), *(Pair(e.inputs.question, text(i), 0) for i in wrong))
            out.append(Group(e.inputs.question, pairs, "answerable"))
        else:
            out.append(Group(e.inputs.question, tuple(Pair(e.inputs.question, text(i), 0) for i in wrong[:3]), "unanswerable"))
    return out
