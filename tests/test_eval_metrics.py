"""Evaluation metrics and the bootstrap against hand-computed values: evidence matching,
retrieval, citations, answers, abstention, latency and confidence intervals."""
from __future__ import annotations

import math

import pytest

from rag.citations import strip_markers
from rag.evaluation import bootstrap
from rag.evaluation import metrics as m

QUOTE = "One such individual is Yeonmi Park, who escaped North Korea at the age of 13 with her mother"


# --- evidence ------------------------------------------------------------------------------

def test_holds_exact_after_normalising_case_space_and_curly_quotes():
    assert m.holds("North Korea’s  border", "Along north korea's\nborder there are guards.")


def test_holds_a_quote_split_across_chunks_when_two_thirds_are_in_the_passage():
    cut = int(len(QUOTE) * 0.7)
    assert m.holds(QUOTE, "Earlier text of the chunk goes here. " * 3 + QUOTE[:cut])
    assert m.holds(QUOTE, QUOTE[len(QUOTE) - cut:] + " The next sentence of the chunk.")
    assert not m.holds(QUOTE, "Earlier text of the chunk goes here. " * 3 + QUOTE[: len(QUOTE) // 3])


def test_a_short_passage_does_not_hold_a_long_quote_and_an_empty_quote_is_held_by_nothing():
    assert not m.holds(QUOTE, "Yeonmi Park")
    assert not m.holds("", "any text")
    assert not m.holds("a quote", "")


def test_evidence_held_ignores_other_sources_unless_no_source_is_given():
    passages = [("a", "x " + QUOTE), ("b", QUOTE), ("a", "nothing here at all, really nothing")]
    assert m.evidence_held(passages, [QUOTE], "a") == [frozenset({0}), frozenset(), frozenset()]
    assert m.evidence_held(passages, [QUOTE], "") == [frozenset({0}), frozenset({0}), frozenset()]
    assert m.quotes_held("a b c d", ["b c", "x y z"]) == frozenset({0})


# --- retrieval -----------------------------------------------------------------------------

E, Q0, Q1 = frozenset(), frozenset({0}), frozenset({1})


def test_hit_at_k():
    assert m.hit_at_k([E, Q0], 1) == 0.0
    assert m.hit_at_k([E, Q0], 2) == 1.0
    assert m.hit_at_k([], 5) == 0.0


def test_reciprocal_rank():
    assert m.reciprocal_rank([E, E, Q0]) == pytest.approx(1 / 3)
    assert m.reciprocal_rank([Q0, Q0]) == 1.0
    assert m.reciprocal_rank([]) == 0.0
    assert m.reciprocal_rank([E, E]) == 0.0


def test_ndcg_at_k():
    assert m.ndcg_at_k([E, Q0], 1, 2) == pytest.approx(1 / math.log2(3))  # 0.6309
    assert m.ndcg_at_k([Q0, Q1], 2, 5) == 1.0
    # second quote found at rank 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309
    assert m.ndcg_at_k([Q0, E, Q1], 2, 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # the ideal holds at most k gains: 3 quotes, k = 1, found at rank 1
    assert m.ndcg_at_k([frozenset({0, 1, 2})], 3, 1) == 1.0


def test_ndcg_duplicate_passages_earn_nothing():
    assert m.ndcg_at_k([Q0, Q0], 1, 2) == 1.0
    # DCG = 1 + 0 + 1/log2(4) = 1.5, not 1 + 1/log2(3) + 1/2
    assert m.ndcg_at_k([Q0, Q0, Q1], 2, 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))


def test_ndcg_edge_cases():
    assert m.ndcg_at_k([], 1, 5) == 0.0
    assert m.ndcg_at_k([E, E], 1, 5) == 0.0
    assert m.ndcg_at_k([Q0], 0, 5) is None


def test_context_recall():
    assert m.context_recall([Q0], 2, 5) == 0.5
    assert m.context_recall([Q0, Q1], 2, 1) == 0.5
    assert m.context_recall([Q0, Q0, Q1], 2, 5) == 1.0
    assert m.context_recall([], 2, 5) == 0.0
    assert m.context_recall([Q0], 0, 5) is None


# --- citations and answers -----------------------------------------------------------------

def test_citation_precision_and_recall():
    assert m.citation_precision([True, False, False]) == pytest.approx(1 / 3)
    assert m.citation_precision([]) is None
    assert m.citation_recall([False, True]) == 1.0
    assert m.citation_recall([False]) == 0.0
    assert m.citation_recall([]) == 0.0


def test_squad_normalisation_and_markers():
    assert m.normalize_answer("The U.S.’ role!") == "us role"
    assert m.normalize_answer("  An apple, a pear  ") == "apple pear"
    assert strip_markers("Yes [1]. No [2][3].") == "Yes. No."


def test_token_f1():
    # "cat sat" vs "cat sat down": P = 2/2, R = 2/3, F1 = 0.8
    assert m.token_f1("The cat sat", "a cat sat down") == pytest.approx(0.8)
    # repeated tokens count once each: pred "cat cat", gold "cat" -> P = 1/2, R = 1, F1 = 2/3
    assert m.token_f1("the cat cat", "cat") == pytest.approx(2 / 3)
    assert m.token_f1("born in 1993", "she was born in 1993") == pytest.approx(0.75)
    assert m.token_f1("", "a cat") == 0.0
    assert m.token_f1("dog", "cat") == 0.0


def test_token_recall():
    assert m.token_recall("a b", "b c") == 0.5
    assert m.token_recall("she was 13 years old", "13") == 1.0
    assert m.token_recall("", "cat") == 0.0


def test_empty_reference_leaves_answer_metrics_undefined():
    assert m.token_f1("anything", "") is None
    assert m.token_f1("anything", "the a an !") is None
    assert m.token_recall("anything", "") is None


def test_cosine():
    assert m.cosine([1, 0], [1, 1]) == pytest.approx(2 ** -0.5)
    assert m.cosine([1, 2], [2, 4]) == pytest.approx(1.0)
    assert m.cosine([0, 0], [1, 1]) == 0.0


def test_groundedness_and_support():
    assert m.groundedness([True, False, True, True]) == 0.75
    assert m.groundedness([]) is None
    assert m.sentence_supported(QUOTE + ". [1]", ["Intro. " + QUOTE + ". More."])
    assert not m.sentence_supported("She later moved to New York and studied there.", [QUOTE])
    assert not m.sentence_supported(QUOTE, [])


# --- abstention and latency ----------------------------------------------------------------

def test_abstention_scores():
    s = m.abstention_scores([True, True, True, False, False], [False, True, False, True, False])
    assert (s.precision, s.recall, s.f1) == (0.5, 0.5, 0.5)
    assert s.false_abstention_rate == pytest.approx(1 / 3)


def test_abstention_when_all_abstained():
    s = m.abstention_scores([True, False, False], [True, True, True])
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)
    assert s.false_abstention_rate == 1.0


def test_abstention_when_none_abstained_or_nothing_unanswerable():
    s = m.abstention_scores([True, False], [False, False])
    assert (s.precision, s.recall, s.f1, s.false_abstention_rate) == (None, 0.0, None, 0.0)
    s = m.abstention_scores([True, True], [True, False])
    assert (s.precision, s.recall, s.f1, s.false_abstention_rate) == (0.0, None, None, 0.5)
    s = m.abstention_scores([False], [False])
    assert (s.precision, s.recall, s.f1, s.false_abstention_rate) == (None, 0.0, None, None)
    s = m.abstention_scores([False, True], [True, True])
    assert (s.precision, s.recall, s.f1) == (0.5, 1.0, pytest.approx(2 / 3))
    s = m.abstention_scores([True, False], [True, False])
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)


def test_mean_and_percentile():
    assert m.mean([1.0, None, 0.0]) == 0.5
    assert m.mean([None]) is None
    assert m.percentile([1, 2, 3, 4], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)  # 1 + 0.95 * 3 = 3.85
    assert m.percentile([], 50) is None


# --- bootstrap -----------------------------------------------------------------------------

def test_bootstrap_of_constant_values_is_a_point():
    assert bootstrap.bootstrap_ci([1.0] * 5, m.mean) == bootstrap.Interval(1.0, 1.0, 1.0)


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [0.0, 1.0] * 10
    first = bootstrap.bootstrap_ci(values, m.mean)
    assert first == bootstrap.bootstrap_ci(values, m.mean)
    assert first.value == 0.5 and first.low < 0.5 < first.high
    assert 0.2 <= first.low <= 0.3 and 0.7 <= first.high <= 0.8  # sd of the mean is 0.112; 95% is about +-0.22
    assert bootstrap.bootstrap_ci(values, m.mean, seed=1) != first


def test_bootstrap_of_nothing_or_undefined_is_undefined():
    assert bootstrap.bootstrap_ci([], m.mean) == bootstrap.Interval(None, None, None)
    assert bootstrap.bootstrap_ci([None, None], m.mean) == bootstrap.Interval(None, None, None)


def test_paired_bootstrap():
    before = [0.0, 1.0, 0.5, 0.25]
    assert bootstrap.paired_ci(before, before, m.mean) == bootstrap.Interval(0.0, 0.0, 0.0)
    shifted = bootstrap.paired_ci(before, [v + 1 for v in before], m.mean)
    assert shifted.value == pytest.approx(1.0) and shifted.low == pytest.approx(1.0) and shifted.high == pytest.approx(1.0)
    assert shifted.excludes_zero()
    with pytest.raises(ValueError):
        bootstrap.paired_ci([1.0], [1.0, 2.0], m.mean)
