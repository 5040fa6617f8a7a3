"""What a question asks for, and whether the answer's sentence and passage mention it.

"What is the annual salary of the envoy?" asks for a salary; a passage about the envoy that
never mentions pay does not answer it, however well it matches the envoy. `asked_for` takes
the words right after "what/which (is the)" or "how many/much"; `asked_row` says how well the
lead sentence (read with the sentence before it and its heading) and its passage hold them:
exactly (stemmed terms), by word vectors (the closest word, weakest asked-for word), and by
how much the asked-for words add to the lead's similarity to the question (`without_asked`:
a sentence that speaks of the salary matches the whole question better than the question
with "annual salary" taken out; one that only speaks of the envoy does not).
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

ASKED_FEATURES = ("asks_for", "asked_in_lead", "asked_in_passage", "asked_soft_lead", "asked_soft_passage",
                  "asked_gain_lead")
NOTHING_ASKED = (0.0, 1.0, 1.0, 1.0, 1.0, 0.0)
_AUX = r"(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have|had|may|must|shall)"
_DET = r"(?:the|a|an|its|their|his|her|this|that)"
_WORDS = r"((?:[\w’'-]+\s+){0,%d}[\w’'-]+)"
_PATTERNS = (
    re.compile(rf"\b(?:what|which)\s+{_AUX}\s+{_DET}\s+{_WORDS % 2}"),  # what is the annual salary of ...
    re.compile(rf"\b(?:what|which)\s+(?!{_AUX}\b){_WORDS % 1}"),         # which countries ..., what penalty ...
    re.compile(rf"\bhow\s+(?:many|much)\s+{_WORDS % 1}"),                # how many seats ...
)
_IS = re.compile(r"\b(what|which)[’']s\b")  # "what's the ..." asks as "what is the ..." does
_ENDS = frozenset("""of for in on to that by from at with about does do did is are was were can could will would
should has have had may must shall who which when where why how the a an""".split())


def asked_for(question: str, stop: frozenset[str] = frozenset()) -> list[str]:
    """The words naming what is asked for, stop words out; [] when the question names nothing.

    `asked_for("What is the annual salary of the envoy?") == ["annual", "salary"]`,
    `asked_for("How many seats does it have?") == ["seats"]`, `asked_for("What's the population?") == ["population"]`,
    `asked_for("What does Article 3 say?") == []`.
    """
    low = _IS.sub(r"\1 is", question.lower())
    for pattern in _PATTERNS:
        match = pattern.search(low)
        if not match:
            continue
        taken: list[str] = []
        for word in match.group(1).split():
            if word in _ENDS:
                break
            taken.append(word.strip("’'-?.,!"))
        taken = [w for w in taken if w and w not in stop]
        if taken:
            return taken
    return []


def without_asked(question: str, asked: Sequence[str]) -> str:
    """The question with the asked-for words taken out:
    `without_asked("What is the annual salary of the envoy?", ["annual", "salary"]) == "What is the of the envoy?"`."""
    for word in asked:
        question = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", question, flags=re.IGNORECASE)
    return " ".join(question.split())


def best_matches(asked_vecs: np.ndarray, word_vecs: np.ndarray) -> float:
    """The weakest asked-for word's closest cosine among the words: `best_matches(np.eye(2), np.eye(2)[:1]) == 0.0`."""
    if len(asked_vecs) == 0 or len(word_vecs) == 0:
        return 0.0
    return float((asked_vecs @ word_vecs.T).max(axis=1).min())


def asked_row(asked_terms: Sequence[str], lead_terms: set[str], passage_terms: set[str],
              soft_lead: float, soft_passage: float, gain_lead: float) -> tuple[float, ...]:
    """One row of ASKED_FEATURES; NOTHING_ASKED when the question names nothing.

    `asked_row(["salari"], {"envoy"}, {"envoy", "salari"}, 0.3, 1.0, 0.05) == (1.0, 0.0, 1.0, 0.3, 1.0, 0.05)`.
    """
    if not asked_terms:
        return NOTHING_ASKED
    share = lambda have: sum(t in have for t in asked_terms) / len(asked_terms)  # noqa: E731
    return (1.0, share(lead_terms), share(passage_terms), soft_lead, soft_passage, gain_lead)
