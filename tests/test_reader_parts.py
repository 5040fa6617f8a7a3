"""The sentence reader's pure parts: answer types, features, weights file, training helpers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from passage.errors import ConfigError
from passage.models import Chunk, Passage
from rag.reader.answer_types import expected_type, found, offers
from rag.reader.candidates import candidates
from rag.reader.features import (FEATURES, QUESTION_FEATURES, coverage, novelty, question_names, rare_terms,
                                 share_present, soft_match, words)
from rag.reader.model import FORMAT, Logistic, blank_weights, load_weights, save_weights


@pytest.mark.parametrize("question, kind", [
    ("How old was she when she got out?", "number"),
    ("how many people fled", "number"),
    ("When did Jo leave?", "date"),
    ("In what year was the Covenant adopted?", "date"),
    ("On what date was the Protocol signed?", "date"),
    ("What's the deadline?", "date"),
    ("What is the deadline?", "date"),
    ("What is the population of North Korea?", "number"),
    ("What's the literacy rate?", "number"),
    ("What is the role of the envoy?", None),
    ("Which countries also restrict exit?", "country"),
    ("Where did they arrive?", "place"),
    ("Who chaired the commission?", "person"),
    ("What is the name of her mother?", "person"),
    ("According to the article, who helped Jo?", "person"),
    ("Why do people leave?", None),
    ("What does Article 13 say?", None),
])
def test_expected_type(question, kind):
    assert expected_type(question) == kind


def test_found_and_offers():
    assert found("date", "In 1948 and 2006, in June.") == {"1948", "2006", "june"}
    assert found("number", "She was 13, with two others.") == {"13", "two"}
    assert found("country", "Saudi Arabia and Eritrea restrict exit.") == {"saudi arabia", "eritrea"}
    assert found("person", "Yeonmi Park met Michael Kirby.") == {"yeonmi park", "michael kirby"}
    assert offers("number", "She escaped at the age of 13.", "How old was she?") is True
    assert offers("date", "She left in 2006.", "What happened in 2006?") is False
    assert offers(None, "She left in 2006.", "Why?") is False


def test_list_markers_and_references_to_parts_of_a_text_are_not_numbers():
    assert found("number", "(6) The Government executes members of underground churches.") == set()
    assert found("number", "1.  There shall be established a Human Rights Committee.") == set()
    assert found("number", "She escaped at 13. (17) The Governments of China and North Korea.") == {"13"}
    assert found("number", "Under article 33, section 7813(a)(2) and § 7814. Actions.") == set()
    assert found("number", "as many as 1.3 million active-duty soldiers (2025)") == {"1.3", "million", "2025"}
    assert found("number", "Paragraph 9 says 5 members.") == {"5"}
    assert offers("number", "(6) The Government executes members of churches.", "How many members were executed?") is False
    with pytest.raises(ValueError, match="choose one of"):
        found("colour", "red")


def test_lexical_features_exact():
    assert coverage({"a": 1.0, "b": 3.0}, {"b"}) == 0.75
    assert coverage({}, {"b"}) == 0.0
    assert rare_terms({"a": 1.0, "b": 3.0, "c": 2.0}, 2) == {"b": 3.0, "c": 2.0}
    assert novelty({"a"}, ["a", "b", "c", "b"]) == 0.75
    assert novelty({"a"}, []) == 0.0
    assert soft_match(np.eye(2), np.array([1.0, 3.0]), np.eye(2)[:1]) == (0.25, 0.0)
    assert soft_match(np.zeros((0, 2)), np.zeros(0), np.eye(2)) == (0.0, 0.0)
    assert words("The Gobi Desert, the desert!", frozenset({"the"})) == ["gobi", "desert"]
    assert question_names("Who met Kim Jong Un in Hanoi?") == ["Kim Jong Un", "Hanoi"]
    assert share_present(["Hanoi", "Kim"], "kim visited") == 0.5
    assert share_present([], "anything") == 1.0


def _passage(cid: str, text: str, start: int, score: float = 1.0) -> Passage:
    chunk = Chunk(cid, "doc", "Doc", "Doc > Part", text, start, start + len(text), None, 10, "Doc > Part")
    return Passage(chunk, score)


def test_candidates_are_unique_and_carry_the_sentence_before():
    first = _passage("c1", "Yeonmi Park escaped at 13 with her mother. She crossed the Gobi Desert.", 0)
    second = _passage("c2", "She crossed the Gobi Desert. They arrived in South Korea later.", 43)
    found_ = candidates([first, second])
    assert [c.text for c in found_] == ["Yeonmi Park escaped at 13 with her mother.", "She crossed the Gobi Desert.",
                                        "They arrived in South Korea later."]
    assert [c.rank for c in found_] == [1, 1, 2]
    assert found_[1].previous == "Yeonmi Park escaped at 13 with her mother."
    assert found_[2].previous == "She crossed the Gobi Desert."
    assert found_[1].context == "Doc > Part\nYeonmi Park escaped at 13 with her mother. She crossed the Gobi Desert."


def test_logistic_predicts_from_standardised_inputs():
    model = Logistic(("x",), np.array([1.0]), np.array([2.0]), np.array([4.0]), -1.0)
    # z = ((3 - 1) / 2) * 4 - 1 = 3
    assert model.predict(np.array([[3.0]]))[0] == pytest.approx(1 / (1 + np.exp(-3.0)))
    assert len(model.predict(np.zeros((0, 1)))) == 0


def test_shipped_weights_load_with_their_version_and_match_the_features():
    weights = load_weights()
    assert weights.version
    assert weights.sentence.features == FEATURES
    assert weights.answerable.features == QUESTION_FEATURES
    assert 0.0 <= weights.threshold <= 1.0
    assert "split=dev" in weights.trained_on


def test_weights_round_trip_and_refuse_stale_files(tmp_path):
    path = tmp_path / "w.json"
    save_weights(blank_weights(), path)
    assert load_weights(path).version == "blank"
    data = json.loads(path.read_text())
    data["sentence"]["features"] = ["something", "else"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="retrain with `passage train-reader`"):
        load_weights(path)
    data["format"] = FORMAT + 1
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="format"):
        load_weights(path)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read"):
        load_weights(path)
    del data["right"]
    data["format"] = FORMAT
    data["sentence"]["features"] = list(FEATURES)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="missing"):
        load_weights(path)


def test_a_cited_passage_from_further_down_the_pool_is_shown():
    from rag.reader.answerer import include_cited

    a, b, c, d = (_passage(f"c{i}", f"Sentence number {i} here.", i * 100) for i in range(4))
    assert include_cited((a, b, c), [a]) == (a, b, c)
    assert include_cited((a, b, c), [d, a]) == (a, b, d)
    assert include_cited((a,), [d, a]) == (a, d)


def test_the_leads_pronoun_continuation_takes_the_runner_ups_place():
    from rag.reader.reader import Reader

    reader = Reader(None, None, None, None, follow_ratio=0.5)
    story = _passage("c1", "Jo Hye Kyung left North Korea in 2006. She was sent to a labor camp.", 0)
    other = _passage("c2", "Camps hold many prisoners today. Many of them die there.", 500)
    cands = candidates([story, other])
    assert [c.text for c in cands] == ["Jo Hye Kyung left North Korea in 2006.", "She was sent to a labor camp.",
                                       "Camps hold many prisoners today.", "Many of them die there."]
    vecs = np.eye(4)
    chosen = reader.choose(cands, np.array([0.9, 0.1, 0.8, 0.2]), vecs)
    assert [c.text for c in chosen] == ["Jo Hye Kyung left North Korea in 2006.", "She was sent to a labor camp."]
    # "Many of them" is no pronoun lead: the runner-up stays
    chosen = reader.choose(cands, np.array([0.6, 0.1, 0.9, 0.1]), vecs)
    assert [c.text for c in chosen] == ["Camps hold many prisoners today.", "Jo Hye Kyung left North Korea in 2006."]
    # a pronoun-led lead still brings the sentence it refers back to first
    chosen = reader.choose(cands, np.array([0.1, 0.9, 0.2, 0.1]), vecs)
    assert [c.text for c in chosen] == ["Jo Hye Kyung left North Korea in 2006.", "She was sent to a labor camp."]


