"""Re-scoring close calls by question likelihood: the rule with a fake model, the settings that
choose the model, and the prompt. The real model's scores are checked in test_llm_real.py."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from passage.errors import ConfigError
from passage.settings import Settings
from rag.reader.likelihood import LlamaLikelihood, load_likelihood, prompt
from rag.reader.reader import Reader
from rag.reader.rescoring import (MARGINS, TOPS, WEIGHTS, Rescoring, Row, best, gap, grid, lead_right, load_rescoring,
                                  rows, save_rescoring, tune)

RULE = Rescoring(top=4, weight=4.0, margin=0.5)


@dataclass(frozen=True)
class Sentence:
    context: str


@dataclass(frozen=True)
class Read:
    question: str
    candidates: tuple[Sentence, ...]


class FakeLikelihood:
    """Mean log-probability by context; records what it was asked."""

    def __init__(self, scores: dict[str, float]):
        self.scores = scores
        self.asked: list[tuple[str, list[str]]] = []

    def score(self, question, contexts):
        self.asked.append((question, list(contexts)))
        return np.array([self.scores.get(c, -2.0) for c in contexts])


def reader(likelihood) -> Reader:
    return Reader(None, lambda texts: [t.split() for t in texts], lambda terms: {}, None, likelihood=likelihood,
                  rescoring=RULE)


def inputs(n: int) -> Read:
    return Read("Who wrote it?", tuple(Sentence(f"s{i}") for i in range(n)))


def test_a_close_call_is_reordered_and_keeps_the_probabilities_it_had():
    fake = FakeLikelihood({"s3": -1.0})
    probs = np.array([0.50, 0.45, 0.10, 0.40, 0.05])
    out = reader(fake).rescore(inputs(5), probs)
    # log-odds of the top four (s0, s1, s3, s2): 0, -0.201, -0.405, -2.197; plus 4 x (-2, -2, -1, -2)
    # gives -8, -8.201, -4.405, -10.197: s3 first, then s0, s1, s2. s4 (fifth) is not asked about.
    assert out.tolist() == [0.45, 0.40, 0.10, 0.50, 0.05]
    assert fake.asked == [("Who wrote it?", ["s0", "s1", "s3", "s2"])]
    assert probs.tolist() == [0.50, 0.45, 0.10, 0.40, 0.05]  # the input is left alone


def test_a_clear_lead_is_not_rescored():
    fake = FakeLikelihood({"s1": 0.0})
    probs = np.array([0.60, 0.45, 0.10])  # log-odds 0.405 and -0.201: 0.606 apart
    assert gap(probs) == pytest.approx(0.6061358, abs=1e-6) and gap(probs) > RULE.margin
    assert reader(fake).rescore(inputs(3), probs).tolist() == [0.60, 0.45, 0.10]
    assert fake.asked == []


def test_a_question_with_one_candidate_or_no_model_is_left_as_it_is():
    fake = FakeLikelihood({})
    assert reader(fake).rescore(inputs(1), np.array([0.3])).tolist() == [0.3]
    assert Reader(None, None, None, None).rescore(inputs(2), np.array([0.5, 0.5])).tolist() == [0.5, 0.5]
    assert fake.asked == []


def test_ties_in_the_combined_score_keep_the_readers_order():
    fake = FakeLikelihood({})
    assert reader(fake).rescore(inputs(2), np.array([0.5, 0.5])).tolist() == [0.5, 0.5]


def test_prompt_puts_the_context_before_the_question_slot():
    assert prompt("  Heading\nShe left in 2007. ") == "Passage: Heading\nShe left in 2007.\nA question this passage answers:"


def test_settings_choose_the_model(tmp_path):
    assert load_likelihood("off", tmp_path / "nothing.gguf") is None
    for mode in ("auto", "on"):  # a model file someone named must be there
        with pytest.raises(ConfigError, match=r"^the re-scoring model file .*nothing.gguf does not exist$"):
            load_likelihood(mode, tmp_path / "nothing.gguf")
        model = tmp_path / "m.gguf"
        model.write_bytes(b"PK\x03\x04")
        with pytest.raises(ConfigError, match=r"^the re-scoring model file .*m.gguf is not a GGUF file$"):
            load_likelihood(mode, model)
    model.write_bytes(b"GGUF")
    pytest.importorskip("llama_cpp")
    found = load_likelihood("auto", model)
    assert isinstance(found, LlamaLikelihood) and found.model_path == model  # loaded on first use only


def test_settings_read_the_rescore_mode_from_the_environment(monkeypatch):
    monkeypatch.setenv("PASSAGE_READER_RESCORE", "off")
    monkeypatch.setenv("PASSAGE_READER_RESCORE_MODEL", "/models/m.gguf")
    settings = Settings()
    assert settings.reader_rescore == "off" and settings.reader_rescore_model == Path("/models/m.gguf")
    monkeypatch.setenv("PASSAGE_READER_RESCORE", "sometimes")
    with pytest.raises(ValueError, match="reader_rescore"):
        Settings()


def test_the_shipped_rule_loads_and_was_tuned_on_dev():
    rule = load_rescoring()
    assert rule.top in TOPS and rule.weight in WEIGHTS and rule.margin in MARGINS
    assert "split=dev" in rule.trained_on and rule.version
    assert rule.figures["consulted"] <= rule.figures["max_consulted"]
    assert rule.figures["lead_right"] > rule.figures["lead_right_without"]


def test_rule_files_round_trip_and_refuse_stale_or_broken_ones(tmp_path):
    path = tmp_path / "r.json"
    save_rescoring(Rescoring(3, 2.0, float("inf"), "v1", "t split=dev", {"lead_right": 0.5}), path)
    again = load_rescoring(path)
    assert (again.top, again.weight, again.margin, again.version, again.figures) == (3, 2.0, 1e9, "v1", {"lead_right": 0.5})
    path.write_text('{"format": 0, "top": 3}')
    with pytest.raises(ConfigError, match=r"format 0, this version reads format 1; rerun `passage tune-rescore`$"):
        load_rescoring(path)
    path.write_text('{"format": 1, "top": "many", "weight": 1, "margin": 1}')
    with pytest.raises(ConfigError, match="missing or bad value"):
        load_rescoring(path)
    path.write_text('{"format": 1, "top": 0, "weight": 1, "margin": 1}')
    with pytest.raises(ConfigError, match="top >= 1"):
        load_rescoring(path)
    path.write_bytes(b"\xff\x00")
    with pytest.raises(ConfigError, match="cannot read the reader's re-scoring rule"):
        load_rescoring(path)


def row(probs, fit, labels) -> Row:
    return Row(np.array(probs, dtype=float), np.array(fit, dtype=float), np.array(labels, dtype=float))


def test_lead_right_grid_and_the_pick():
    # Question 1: a close call whose evidence (second) the model prefers; question 2: a clear lead
    # that is right; question 3: a close call where the model prefers a wrong third candidate.
    found = [row([0.5, 0.45, 0.2], [-3, -1, -2], [0, 1, 0]), row([0.9, 0.1, 0.05], [-1, -1, -1], [1, 0, 0]),
             row([0.5, 0.48, 0.46], [-2, -3, -1], [1, 0, 0])]
    assert lead_right(found, Rescoring(1, 0.0, -1.0)) == pytest.approx(2 / 3)
    assert lead_right(found, Rescoring(2, 4.0, 0.5)) == 1.0  # the third candidate is beyond top 2
    assert lead_right(found, Rescoring(3, 4.0, 0.5)) == pytest.approx(2 / 3)
    table = grid(found, [gap(r.probs) for r in found] + [5.0])
    assert len(table) == 1 + len(TOPS) * len(WEIGHTS) * len(MARGINS)
    assert table[0] == {"top": 1, "weight": 0.0, "margin": -1.0, "lead_right": pytest.approx(2 / 3), "consulted": 0.0}
    pick = best(table, max_consulted=0.5)
    # gaps 0.2007, 4.394, 0.0801, 5.0: margins 0.25 to 1 consult half of the questions
    assert (pick["top"], pick["weight"], pick["margin"], pick["lead_right"], pick["consulted"]) == (2, 1.0, 0.25, 1.0, 0.5)
    assert best(table, max_consulted=0.0)["weight"] == 0.0


class Example:
    def __init__(self, question, contexts, labels, answerable=True):
        self.inputs = Read(question, tuple(Sentence(c) for c in contexts))
        self.labels = np.array(labels, dtype=float)
        self.answerable = answerable


def test_rows_ask_the_model_about_answerable_questions_whose_evidence_is_found():
    fake = FakeLikelihood({"b": -1.0})
    examples = [Example("q1", ["a", "b", "c"], [0, 1, 0]), Example("q2", ["d", "e"], [0, 0]),
                Example("q3", ["f", "g"], [1, 0], answerable=False)]
    probs = [np.array([0.2, 0.5, 0.4]), np.array([0.5, 0.4]), np.array([0.5, 0.4])]
    found = rows(examples, probs, fake, top=2)
    assert fake.asked == [("q1", ["b", "c"])]
    assert len(found) == 1 and found[0].probs.tolist() == [0.5, 0.4] and found[0].fit.tolist() == [-1.0, -2.0]
    assert found[0].labels.tolist() == [1.0, 0.0]
    rule = tune(examples, probs, fake, "v", "t split=dev")
    assert rule.figures["questions"] == 1 and rule.figures["items"] == 3 and rule.figures["lead_right"] == 1.0
    with pytest.raises(ConfigError, match="needs answerable questions"):
        tune(examples[1:], probs[1:], fake, "v", "t")
