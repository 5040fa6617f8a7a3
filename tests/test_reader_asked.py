"""What a question asks for, and whether the lead sentence and its passage hold it (rag.reader.asked)."""
from __future__ import annotations

import numpy as np
import pytest

from rag.reader.asked import ASKED_FEATURES, NOTHING_ASKED, asked_for, asked_row, best_matches, without_asked
from rag.reader.features import QUESTION_FEATURES, STOP_WORDS, question_features


@pytest.mark.parametrize("question, asked", [
    ("What is the annual salary of the envoy?", ["annual", "salary"]),
    ("what was the penalty for leaving?", ["penalty"]),
    ("Which countries border North Korea?", ["countries", "border"]),
    ("What penalty does the Act set?", ["penalty"]),
    ("How many seats does the committee have?", ["seats"]),
    ("how much money did the broker charge", ["money"]),
    ("What is the envoy’s salary?", ["envoy’s", "salary"]),
    ("What's the population of Nampo?", ["population"]),
    ("and what’s the penalty", ["penalty"]),
    ("What does Article 3 say?", []),
    ("Why do people leave?", []),
    ("Who chaired the commission?", []),
    ("", []),
])
def test_asked_for(question, asked):
    assert asked_for(question, STOP_WORDS) == asked


def test_asked_for_without_stop_words_keeps_every_word_up_to_the_first_link():
    assert asked_for("Which year of the war?") == ["year"]
    assert asked_for("What is the date of birth?", frozenset({"date"})) == []


def test_best_matches_is_the_weakest_asked_words_closest_cosine():
    asked = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert best_matches(asked, np.array([[1.0, 0.0]])) == 0.0
    assert best_matches(asked, np.array([[0.6, 0.8], [1.0, 0.0]])) == pytest.approx(0.8)
    assert best_matches(asked, np.zeros((0, 2))) == 0.0
    assert best_matches(np.zeros((0, 2)), asked) == 0.0


def test_without_asked_takes_out_whole_words_only():
    assert without_asked("What is the annual salary of the envoy?", ["annual", "salary"]) == "What is the of the envoy?"
    assert without_asked("How many seats? Seats, not seat-belts.", ["seats"]) == "How many ? , not seat-belts."
    assert without_asked("What is the envoy’s salary?", ["envoy’s", "salary"]) == "What is the ?"
    assert without_asked("Why (really)?", ["(really)"]) == "Why ?"


def test_asked_row_shares_and_soft_matches():
    assert asked_row(["salari"], {"envoy"}, {"envoy", "salari"}, 0.3, 1.0, 0.05) == (1.0, 0.0, 1.0, 0.3, 1.0, 0.05)
    assert asked_row(["annual", "salari"], {"annual"}, {"annual"}, 0.5, 0.6, -0.1) == (1.0, 0.5, 0.5, 0.5, 0.6, -0.1)
    assert asked_row([], {"envoy"}, set(), 0.0, 0.0, 0.2) == NOTHING_ASKED
    assert len(NOTHING_ASKED) == len(ASKED_FEATURES)


def test_question_features_end_with_the_asked_row():
    assert QUESTION_FEATURES[-len(ASKED_FEATURES):] == ASKED_FEATURES
    empty = question_features("What is the salary?", {}, np.zeros(0), np.zeros((0, 1)), None, set(), set())
    assert empty.shape == (len(QUESTION_FEATURES),)


@pytest.mark.slow
def test_the_asked_for_words_raise_the_similarity_only_of_a_sentence_that_speaks_of_them(embedder):
    question = "What is the annual salary of the special envoy?"
    whole, without = np.asarray(embedder.embed([question, without_asked(question, asked_for(question, STOP_WORDS))]))
    pays, names = np.asarray(embedder.embed([
        "The special envoy is paid an annual salary at the rate of a senior executive.",
        "The President shall appoint a special envoy on North Korean human rights.",
    ]))
    assert pays @ whole - pays @ without > 0.05
    assert pays @ whole - pays @ without > names @ whole - names @ without + 0.05
