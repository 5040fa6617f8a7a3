"""Numbers a sentence selector needs, one row per candidate sentence.

Every function here is pure: it takes the question's terms and their IDF, the vectors, and the
candidates, and returns floats. Terms are BM25's (lower-cased, stop words out, stemmed), so
"escaped" and "escape" match. `FEATURES` names the columns in order; the trained model file
records the same names, so a change here is caught when the weights are loaded.
"""
from __future__ import annotations

import math
import re
from typing import Mapping, Sequence

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from .answer_types import expected_type, offers
from .asked import ASKED_FEATURES, NOTHING_ASKED
from .candidates import Candidate

FEATURES = (
    "sim_sentence", "sim_context", "sim_sentence_gap", "sim_context_gap",
    "coverage", "coverage_context", "coverage_gap", "rare_coverage", "heading_coverage",
    "novelty", "echo", "type_offered", "type_missing",
    "pool_rank", "in_top_k", "sim_gap_in_passage", "starts_with_pronoun", "log_words", "first_in_chunk",
    "soft_coverage", "soft_coverage_gap", "weakest_match",
)
PRONOUN_LEAD = re.compile(r"^(She|He|They|It|This|These|Those|Her|His|Their|Its|That|Such|The latter|The former)\b")
TOP_K = 5
# Stems of words that frame a question rather than say what it is about (BM25's stop list keeps them).
FRAME_WORDS = frozenset("""
what whi who whom whose when where how which mani much doe do did is are was were be been can could should would will
shall may might must has have had i me my you your she he her him his they them their it its this that these those there
accord articl document text say said tell mention state describ give list name anyth someth exact kind type way also
just onli ever realli pleas know doc author piec write written mean""".split())


def coverage(wanted: Mapping[str, float], have: set[str]) -> float:
    """IDF-weighted share of the wanted terms present: `coverage({"a": 1, "b": 3}, {"b"}) == 0.75`."""
    total = sum(wanted.values())
    return sum(w for t, w in wanted.items() if t in have) / total if total else 0.0


def rare_terms(wanted: Mapping[str, float], n: int = 2) -> dict[str, float]:
    """The `n` terms with the highest IDF: `rare_terms({"a": 1, "b": 3, "c": 2}, 2) == {"b": 3, "c": 2}`."""
    return dict(sorted(wanted.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


def novelty(question_terms: set[str], terms: list[str]) -> float:
    """Share of a sentence's terms the question lacks: `novelty({"a"}, ["a", "b", "c", "b"]) == 0.75`."""
    return sum(t not in question_terms for t in terms) / len(terms) if terms else 0.0


def soft_match(question_vecs: np.ndarray, weights: np.ndarray, word_vecs: np.ndarray) -> tuple[float, float]:
    """(weighted mean, minimum) over question words of their best cosine with any of the words.

    `soft_match(np.eye(2), np.array([1., 3.]), np.eye(2)[:1]) == (0.25, 0.0)`: the first word is
    matched exactly (weight 1), the second (weight 3) not at all.
    """
    if len(question_vecs) == 0 or len(word_vecs) == 0:
        return 0.0, 0.0
    best = (question_vecs @ word_vecs.T).max(axis=1).clip(0.0, 1.0)
    return float(best @ weights / weights.sum()), float(best.min())


def sentence_features(question: str, wanted: Mapping[str, float], cands: Sequence[Candidate],
                      terms: Sequence[list[str]], context_terms: Sequence[list[str]],
                      heading_terms: Sequence[list[str]], sim_sentence: np.ndarray, sim_context: np.ndarray,
                      soft: np.ndarray | None = None) -> np.ndarray:
    """The feature matrix (len(cands) x len(FEATURES)) for one question.

    `terms`, `context_terms` and `heading_terms` are each candidate's tokenised sentence, context
    and heading; `sim_*` are cosines of the query vector with the sentence and context vectors.
    """
    n = len(cands)
    if n == 0:
        return np.zeros((0, len(FEATURES)))
    kind = expected_type(question)
    rare = rare_terms(wanted)
    qterms = set(wanted)
    cov = np.array([coverage(wanted, set(t)) for t in terms])
    best_in_passage: dict[str, float] = {}
    for c, s in zip(cands, sim_sentence):
        best_in_passage[c.passage.chunk.id] = max(best_in_passage.get(c.passage.chunk.id, -1.0), float(s))
    soft = np.zeros((n, 2)) if soft is None else soft
    rows = []
    for i, c in enumerate(cands):
        offered = offers(kind, f"{c.previous} {c.text}", question) if kind else False
        nov = novelty(qterms, terms[i])
        rows.append((
            sim_sentence[i], sim_context[i], sim_sentence[i] - sim_sentence.max(), sim_context[i] - sim_context.max(),
            cov[i], coverage(wanted, set(context_terms[i])), cov[i] - cov.max(),
            coverage(rare, set(context_terms[i])), coverage(wanted, set(heading_terms[i])),
            nov, cov[i] * (1.0 - nov), float(offered), float(kind is not None and not offered),
            1.0 / c.rank, float(c.rank <= TOP_K), sim_sentence[i] - best_in_passage[c.passage.chunk.id],
            float(bool(PRONOUN_LEAD.match(c.text))), math.log(1 + len(c.text.split())), float(c.index == 0),
            soft[i, 0], soft[i, 0] - soft[:, 0].max(), soft[i, 1],
        ))
    return np.asarray(rows, dtype=float)


QUESTION_FEATURES = (
    "best", "margin", "second", "lead_coverage", "lead_context_coverage", "rare_in_passage", "rare_in_pool",
    "names_in_passage", "numbers_in_passage", "numbers_in_pool", "unknown_terms", "type_known", "type_offered",
    "type_in_passage", "best_sim", "pool_best_coverage", "lead_soft_coverage", "lead_weakest_match",
) + ASKED_FEATURES
STOP_WORDS = frozenset(STOPWORDS_EN_PLUS) | frozenset("""
what which who whom whose when where how many much does did do according article document text say says said tell
mention mentions mentioned describe described give given list name exact kind type way also just only ever really
please know author piece write written mean means""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z’'-]+|\d[\d,.]*\d|\d")


def words(text: str, stop: frozenset[str]) -> list[str]:
    """Distinct lower-cased words of `text` that are not stop words: `words("The Gobi Desert", frozenset({"the"})) == ["gobi", "desert"]`."""
    return list(dict.fromkeys(w for w in (m.group(0).lower().strip("’'-") for m in _WORD.finditer(text)) if w and w not in stop))


_QNAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*")
_QNUMBER = re.compile(r"\b\d[\d,.]*\b")


def question_names(question: str) -> list[str]:
    """Capitalised names past the first word: `question_names("Who met Kim Jong Un in Hanoi?") == ["Kim Jong Un", "Hanoi"]`."""
    return [m.group(0) for m in _QNAME.finditer(question.strip())]


def share_present(needles: Sequence[str], text: str) -> float:
    """Share of needles found in text, case-insensitive; 1.0 when there are none to find."""
    if not needles:
        return 1.0
    low = text.lower()
    return sum(n.lower() in low for n in needles) / len(needles)


def question_features(question: str, wanted: Mapping[str, float], probs: np.ndarray, feats: np.ndarray,
                      lead: Candidate | None, pool_terms: set[str], passage_terms: set[str],
                      pool_text: str = "", unknown: float = 0.0, asked: Sequence[float] = NOTHING_ASKED) -> np.ndarray:
    """One row of QUESTION_FEATURES: how well the best sentence and its passage cover the question
    (`asked`: the row of rag.reader.asked for what the question asks for)."""
    if lead is None or len(probs) == 0:
        return np.zeros(len(QUESTION_FEATURES))
    order = np.argsort(-probs)
    best, second = float(probs[order[0]]), float(probs[order[1]]) if len(order) > 1 else 0.0
    row = feats[order[0]]
    col = {name: i for i, name in enumerate(FEATURES)}
    rare = rare_terms(wanted)
    passage_text = f"{lead.heading}\n{lead.passage.chunk.text}"
    kind = expected_type(question)
    return np.array([
        best, best - second, second, row[col["coverage"]], row[col["coverage_context"]],
        coverage(rare, passage_terms), coverage(rare, pool_terms),
        share_present(question_names(question), passage_text), share_present(_QNUMBER.findall(question), passage_text),
        share_present(_QNUMBER.findall(question), pool_text), unknown,
        float(kind is not None), row[col["type_offered"]], float(offers(kind, passage_text, question)),
        row[col["sim_sentence"]], float(feats[:, col["coverage"]].max()), row[col["soft_coverage"]],
        row[col["weakest_match"]], *asked,
    ], dtype=float)
