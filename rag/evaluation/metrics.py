"""Evaluation metrics as pure functions of (gold, predicted); offline, no LLM judge.

Evidence. A passage holds a reference quote when, with case, white space and curly quotes
normalised, the quote is inside it, or rapidfuzz's `partial_ratio(quote, passage) / 100 >= 0.8`
(the best-aligned window matches at least 80%). partial_ratio also aligns windows that run off
either end of the passage, so a quote cut at a chunk boundary still counts when about two
thirds of it lie in the passage (2x / (1 + x) >= 0.8 for a share x). A passage shorter than
the quote is compared whole (`fuzz.ratio`), which gives the same two-thirds rule.

Retrieval metrics read `held`: per retrieved passage in rank order, the indices of the quotes
it holds (empty for a passage of another source). A passage is relevant when that is non-empty.
Values that cannot be defined are None (and left out of means): e.g. precision of no citations.
"""
from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rapidfuzz import fuzz

from rag.citations import strip_markers

MATCH_THRESHOLD = 0.8
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_ARTICLES = re.compile(r"\b(a|an|the)\b")


# --- evidence ------------------------------------------------------------------------------

def normalize_text(text: str) -> str:
    """`normalize_text("North  Korea’s\\nborder") == "north korea's border"`"""
    return " ".join(text.translate(_QUOTES).lower().split())


def holds(quote: str, text: str, threshold: float = MATCH_THRESHOLD) -> bool:
    """Whether `text` contains `quote`, exactly or fuzzily; an empty quote is held by nothing."""
    quote, text = normalize_text(quote), normalize_text(text)
    if not quote or not text:
        return False
    if quote in text:
        return True
    # partial_ratio aligns the shorter string inside the longer, so a passage shorter than the
    # quote is compared whole instead; otherwise a two-word passage would "hold" any quote.
    score = fuzz.partial_ratio(quote, text) if len(quote) <= len(text) else fuzz.ratio(quote, text)
    return score / 100 >= threshold


def quotes_held(text: str, quotes: Sequence[str], threshold: float = MATCH_THRESHOLD) -> frozenset[int]:
    """`quotes_held("a b c d", ["b c", "x y z"]) == frozenset({0})`"""
    return frozenset(i for i, q in enumerate(quotes) if holds(q, text, threshold))


def evidence_held(passages: Sequence[tuple[str, str]], quotes: Sequence[str], source: str = "") -> list[frozenset[int]]:
    """Per (source, text) passage, the quotes it holds; passages of another source hold none.

    An empty `source` accepts passages of any document.
    """
    return [quotes_held(text, quotes) if not source or s == source else frozenset() for s, text in passages]


# --- retrieval -----------------------------------------------------------------------------

def hit_at_k(held: Sequence[frozenset[int]], k: int) -> float:
    """`hit_at_k([set(), {0}], 2) == 1.0`; 0.0 when nothing was retrieved."""
    return float(any(held[:k]))


def reciprocal_rank(held: Sequence[frozenset[int]]) -> float:
    """1 / rank of the first relevant passage: `reciprocal_rank([set(), set(), {0}]) == 1/3`."""
    return next((1.0 / rank for rank, h in enumerate(held, start=1) if h), 0.0)


def ndcg_at_k(held: Sequence[frozenset[int]], n_quotes: int, k: int) -> float | None:
    """Binary-gain nDCG@k. A passage gains 1 only when it holds a quote no higher passage held,
    so a duplicate passage earns nothing; the ideal ranks min(n_quotes, k) gains first.

    `ndcg_at_k([set(), {0}], 1, 2) == 1 / log2(3)`
    """
    if n_quotes <= 0:
        return None
    seen: set[int] = set()
    dcg = 0.0
    for rank, h in enumerate(held[:k], start=1):
        if h - seen:
            dcg += 1.0 / math.log2(rank + 1)
        seen |= h
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(n_quotes, k) + 1))
    return dcg / ideal


def context_recall(held: Sequence[frozenset[int]], n_quotes: int, k: int) -> float | None:
    """Share of reference quotes held by some top-k passage: `context_recall([{0}], 2, 5) == 0.5`."""
    if n_quotes <= 0:
        return None
    return len(frozenset().union(*held[:k])) / n_quotes


# --- citations -----------------------------------------------------------------------------

def citation_precision(cited_evidence: Sequence[bool]) -> float | None:
    """Share of cited passages (one flag each, duplicates removed) that hold evidence."""
    return sum(cited_evidence) / len(cited_evidence) if cited_evidence else None


def citation_recall(cited_evidence: Sequence[bool]) -> float:
    """1.0 when the citations of an answered item include an evidence passage, else 0.0."""
    return float(any(cited_evidence))


# --- answers -------------------------------------------------------------------------------

def normalize_answer(text: str) -> str:
    """SQuAD normalisation (lower case, no punctuation, no a/an/the, single spaces), with
    Unicode punctuation removed too: `normalize_answer("The U.S.’ role!") == "us role"`."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation and not unicodedata.category(ch).startswith("P"))
    return " ".join(_ARTICLES.sub(" ", text).split())


def _overlap(prediction: str, reference: str) -> tuple[int, int, int] | None:
    gold = normalize_answer(reference).split()
    if not gold:
        return None
    pred = normalize_answer(prediction).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    return common, len(pred), len(gold)


def token_f1(prediction: str, reference: str) -> float | None:
    """SQuAD token F1; None for an empty reference, 0.0 for an empty prediction.

    `token_f1("born in 1993", "she was born in 1993") == 2 * 1.0 * 0.6 / 1.6`
    """
    counts = _overlap(prediction, reference)
    if counts is None:
        return None
    common, n_pred, n_gold = counts
    if common == 0:
        return 0.0
    precision, recall = common / n_pred, common / n_gold
    return 2 * precision * recall / (precision + recall)


def token_recall(prediction: str, reference: str) -> float | None:
    """Share of the reference's tokens the prediction contains: `token_recall("a b", "b c") == 0.5`."""
    counts = _overlap(prediction, reference)
    return None if counts is None else counts[0] / counts[2]


def fact_stated(answer: str, facts: Sequence[str], facts_all: Sequence[str] = ()) -> float | None:
    """1.0 when the answer states the asked-for fact: any of `facts`, or every one of `facts_all`
    (case, white space and curly quotes normalised); None when the item names no fact.

    `fact_stated("She was 13 [1].", ["13", "thirteen"]) == 1.0`
    """
    if not facts and not facts_all:
        return None
    text = normalize_text(answer)
    if facts_all:
        return float(all(normalize_text(f) in text for f in facts_all))
    return float(any(normalize_text(f) in text for f in facts))


def evidence_quoted(answer: str, quotes: Sequence[str]) -> float | None:
    """1.0 when the answer holds a reference quote (see `holds`); None without quotes.

    `evidence_quoted("At 13, she left.", ["she left"]) == 1.0`
    """
    if not quotes:
        return None
    return float(any(holds(q, answer) for q in quotes))


def abstention_curve(answerable: Sequence[bool], scores: Sequence[float], steps: int = 21) -> list[dict]:
    """Abstention precision, recall and false-abstention rate when abstaining below each of
    `steps` evenly spaced thresholds of an answerability score.

    `abstention_curve([True, False], [0.9, 0.2], 3)[1] == {"threshold": 0.5, "precision": 1.0,
    "recall": 1.0, "false_abstention": 0.0}`
    """
    rows = []
    for t in np.linspace(0.0, 1.0, steps):
        abstained = [s < t for s in scores]
        a = abstention_scores(answerable, abstained)
        rows.append({"threshold": round(float(t), 3), "precision": a.precision, "recall": a.recall,
                     "false_abstention": a.false_abstention_rate})
    return rows


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0.0 when either vector is zero: `cosine([1, 0], [1, 1]) == 2 ** -0.5`."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def sentence_supported(sentence: str, passages: Sequence[str], threshold: float = MATCH_THRESHOLD) -> bool:
    """Whether a sentence (markers removed) appears, exactly or fuzzily, in one of the passages."""
    return any(holds(strip_markers(sentence), text, threshold) for text in passages)


def groundedness(supported: Sequence[bool]) -> float | None:
    """Share of answer sentences that are supported; None for an answer without sentences."""
    return sum(supported) / len(supported) if supported else None


# --- abstention and latency ----------------------------------------------------------------

@dataclass(frozen=True)
class AbstentionScores:
    """Abstention as a detector of unanswerable items, plus false abstentions on answerable ones."""

    precision: float | None
    recall: float | None
    f1: float | None
    false_abstention_rate: float | None


def abstention_scores(answerable: Sequence[bool], abstained: Sequence[bool]) -> AbstentionScores:
    """`abstention_scores([True, False], [True, True])` -> precision 0.5, recall 1.0, false rate 1.0."""
    pairs = list(zip(answerable, abstained))
    true_pos = sum(1 for ok, off in pairs if off and not ok)
    n_abstained = sum(1 for _, off in pairs if off)
    n_unanswerable = sum(1 for ok, _ in pairs if not ok)
    n_answerable = len(pairs) - n_unanswerable
    precision = true_pos / n_abstained if n_abstained else None
    recall = true_pos / n_unanswerable if n_unanswerable else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    false_rate = (n_abstained - true_pos) / n_answerable if n_answerable else None
    return AbstentionScores(precision, recall, f1, false_rate)


def mean(values: Sequence[float | None]) -> float | None:
    """Mean of the defined values: `mean([1.0, None, 0.0]) == 0.5`; None when none are defined."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolation percentile (numpy's default): `percentile([1, 2, 3, 4], 50) == 2.5`."""
    return float(np.percentile(values, q)) if len(values) else None
