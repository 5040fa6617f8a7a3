"""The training package's pure parts, with exact expected values (training/)."""
from __future__ import annotations

import random

import numpy as np
import pytest

from training.calibrate import fit_logistic
from training.first_stage import pick_threshold
from training.examples import groups, swap, _values
from training.labels import is_evidence
from training.squad import QA


def test_pick_threshold_keeps_false_abstentions_under_the_limit():
    answerable = np.array([1, 1, 1, 0])
    assert pick_threshold(np.array([.1, .5, .9, .2]), answerable, 0.34) == 0.3
    assert pick_threshold(np.array([.1, .5, .9, .2]), answerable, 0.0) == 0.05
    assert pick_threshold(np.array([.1, .5, .9, .2]), np.array([0, 0, 0, 0]), 0.1) == 0.0


def test_is_evidence_reads_quotes_both_ways_and_checks_the_source():
    quote = "Yeonmi Park, who escaped North Korea at the age of 13 with her mother"
    assert is_evidence("One such individual is Yeonmi Park, who escaped North Korea at the age of 13 with her mother.", "doc", [quote])
    assert not is_evidence("They walked across the Gobi Desert.", "doc", [quote])
    assert not is_evidence("Yeonmi Park escaped North Korea at the age of 13 with her mother.", "other", [quote], "doc")
    long_quote = "They walked across the Gobi Desert. Then they reached Mongolia and finally South Korea."
    assert is_evidence("Then they reached Mongolia and finally South Korea.", "doc", [long_quote])


def test_fit_logistic_separates_a_separable_set_and_survives_one_outcome():
    x = np.array([[0.0, 1.0], [0.1, 0.9], [1.0, 0.0], [0.9, 0.1]])
    model = fit_logistic(x, np.array([0, 0, 1, 1]), ("a", "b"), c=10.0)
    assert (model.predict(x) > 0.5).tolist() == [False, False, True, True]
    constant = fit_logistic(x, np.array([1, 1, 1, 1]), ("a", "b"))
    assert constant.predict(x) == pytest.approx([0.99] * 4)


PARAGRAPH = ("Yeonmi Park was born in Hyesan in 1993. She escaped to China in 2007. "
             "Her memoir appeared in 2015 in New York.")


def _qa(question: str, answer: str, pid: str = "Park/0", paragraph: str = PARAGRAPH) -> QA:
    return QA("q", question, "Yeonmi Park", pid, paragraph, answer, paragraph.index(answer))


def test_a_group_has_the_answer_sentence_and_negatives_from_the_paragraph_and_the_article():
    other = _qa("Who published the memoir?", "Penguin", "Park/1",
                "The memoir was published by Penguin. It sold widely. Critics praised it.")
    out = groups([_qa("When did she escape to China?", "2007")], random.Random(0), same_paragraph=2, same_article=1,
                 swap_rate=0.0, others=[other])
    assert len(out) == 1 and out[0].kind == "answerable"
    pairs = out[0].pairs
    assert pairs[0].label == 1 and pairs[0].text == "She escaped to China in 2007. [SEP] Yeonmi Park | Yeonmi Park was born in Hyesan in 1993."
    assert [p.label for p in pairs] == [1, 0, 0, 0]
    assert sum("[SEP] Yeonmi Park" in p.text and ("Penguin" in p.text or "sold" in p.text or "Critics" in p.text)
               for p in pairs) == 1


def test_a_swapped_question_is_no_longer_answered_by_its_sentence():
    article = _values(PARAGRAPH + " Kim Il-sung ruled until 1994. Pyongyang is the capital.")
    swapped = swap("When did she escape to China in 2007?", "She escaped to China in 2007.", article, random.Random(1))
    assert swapped is not None and swapped != "When did she escape to China in 2007?"
    assert "2007" not in swapped or "China" not in swapped
    assert swap("How did it go?", "It went well.", article, random.Random(1)) is None
