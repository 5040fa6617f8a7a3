"""From the reading model's scores to an answer's answerability and confidence.

Each candidate the reading model read has two logits: the sentence model's (first stage) and
the reading model's. `sentence` (a logistic model over both) gives its final probability, so
the cheap stage's evidence is kept where the reading model is unsure. Question-level signals
(`signals`): the best final logit and its margin over the runner-up, the same for the reading
model alone, the first stage's own answerability estimate (weights.json's `answerable` trees
over hand-made question-level signals: names and numbers of the question missing from the
best passage, what the question asks for, ...), and the share of the question's words that no
document holds. Two logistic
models over them give `answerability` (the documents answer the question) and `confidence`
(the answer quotes the evidence); below `threshold` the reader abstains. All are fitted on the
project's dev split (training/calibrate.py) and stored in the model's stamp (`reader.json`,
key `calibration`).
Usage: `c = Calibration.from_json(stamp.calibration); c.answerable(signals(final, reading, first, unknown))`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from passage.errors import ConfigError

from .model import Logistic

SENTENCE = ("first_logit", "reading_logit")
SIGNALS = ("top_logit", "margin", "reading_top", "reading_margin", "first_answerable", "unknown")
NO_RUNNER_UP = -12.0  # a logit as if the runner-up were certainly wrong


def _top_two(logits: np.ndarray) -> tuple[float, float]:
    top = np.sort(np.asarray(logits, dtype=float))[::-1]
    if not len(top):
        return NO_RUNNER_UP, 0.0
    return float(top[0]), float(top[0] - (top[1] if len(top) > 1 else NO_RUNNER_UP))


def signals(final: np.ndarray, reading: np.ndarray, first_answerable: float, unknown: float) -> np.ndarray:
    """The question's signal row (`first_answerable` a probability, kept as its logit):
    `signals(np.array([2., -1.]), np.array([1.]), 0.5, 0.0) == [2., 3., 1., 13., 0., 0.]`."""
    return np.array([*_top_two(final), *_top_two(reading), float(logit(np.array([first_answerable]))[0]), unknown])


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Calibration:
    """The fitted models and the operating point."""

    sentence_model: Logistic
    answerable_model: Logistic
    right_model: Logistic
    threshold: float
    follow_ratio: float
    keep: int

    def sentence(self, first_logits: np.ndarray, reading_logits: np.ndarray) -> np.ndarray:
        """Final probabilities of the candidates read, from both stages' logits."""
        return self.sentence_model.predict(np.c_[first_logits, reading_logits])

    def answerable(self, row: np.ndarray) -> float:
        return float(self.answerable_model.predict(np.asarray(row)[None, :])[0])

    def confidence(self, row: np.ndarray) -> float:
        return float(self.right_model.predict(np.asarray(row)[None, :])[0])

    def to_json(self) -> dict:
        return {"sentence": self.sentence_model.to_json(), "answerable": self.answerable_model.to_json(), "right": self.right_model.to_json(),
                "threshold": self.threshold, "follow_ratio": self.follow_ratio, "keep": self.keep}

    @classmethod
    def from_json(cls, data: dict, where: str = "reader.json") -> "Calibration":
        try:
            return cls(Logistic.from_json(data["sentence"], SENTENCE, where), Logistic.from_json(data["answerable"], SIGNALS, where), Logistic.from_json(data["right"], SIGNALS, where),
                       float(data["threshold"]), float(data["follow_ratio"]), int(data["keep"]))
        except KeyError as exc:
            raise ConfigError(f"{where}: the calibration lacks {exc}; retrain with `passage train-reader`") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: the calibration is malformed ({exc}); retrain with `passage train-reader`") from None
