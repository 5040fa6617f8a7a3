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
from rag.reader.reader import RESCORE_MARGIN, RESCORE_TOP, Reader


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
    return Reader(None, lambda texts: [t.split() for t in texts], lambda terms: {}, None, likelihood=likelihood)


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
    assert RESCORE_TOP == 4


def test_a_clear_lead_is_not_rescored():
    fake = FakeLikelihood({"s1": 0.0})
    probs = np.array([0.60, 0.45, 0.10])  # log-odds 0.405 and -0.201: 0.606 apart
    assert np.log(0.6 / 0.4) - np.log(0.45 / 0.55) > RESCORE_MARGIN
    assert reader(fake).rescore(inputs(3), probs).tolist() == [0.60, 0.45, 0.10]
    assert fake.asked == []


def test_a_question_with_one_candidate_or_no_model_is_left_as_it_is():
    fake = FakeLikelihood({})
    assert reader(fake).rescore(inputs(1), np.array([0.3])).tolist() == [0.3]
    assert reader(None).rescore(inputs(2), np.array([0.5, 0.5])).tolist() == [0.5, 0.5]
    assert fake.asked == []


def test_ties_in_the_combined_score_keep_the_readers_order():
    fake = FakeLikelihood({})
    assert reader(fake).rescore(inputs(2), np.array([0.5, 0.5])).tolist() == [0.5, 0.5]


def test_prompt_puts_the_context_before_the_question_slot():
    assert prompt("  Heading\nShe left in 2007. ") == "Passage: Heading\nShe left in 2007.\nA question this passage answers:"


def test_settings_choose_the_model(tmp_path):
    assert load_likelihood("off", tmp_path / "nothing.gguf") is None
    assert load_likelihood("auto", tmp_path / "nothing.gguf") is None
    with pytest.raises(ConfigError, match=r"^reader re-scoring is on but the model file .*nothing.gguf does not exist$"):
        load_likelihood("on", tmp_path / "nothing.gguf")
    model = tmp_path / "m.gguf"
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
