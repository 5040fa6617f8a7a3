"""The reader's learned weights: two logistic regressions in one versioned JSON file.

`sentence` scores each candidate (probability it states the answer); `answer` scores the whole
answer (probability it is right), and `threshold` is the calibrated operating point below which
the reader abstains. Inference is numpy only, so asking never imports scikit-learn.
Usage: `weights = load_weights(); weights.sentence.predict(matrix)`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from passage.errors import ConfigError

FORMAT = 1
WEIGHTS_FILE = "weights.json"


@dataclass(frozen=True)
class Logistic:
    """Standardise with (mean, scale), then sigmoid(x @ coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Probabilities, one per row: `Logistic(("x",), [0], [1], [2], 0).predict([[0]]) == [0.5]`."""
        matrix = np.asarray(matrix, dtype=float)
        if matrix.size == 0:
            return np.zeros(len(matrix))
        z = ((matrix - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict, expected: Sequence[str], where: str) -> "Logistic":
        features = tuple(data["features"])
        if features != tuple(expected):
            raise ConfigError(f"{where}: trained on features {list(features)}, the code computes {list(expected)}; "
                              "retrain with `python -m rag.reader.train`")
        arrays = [np.asarray(data[k], dtype=float) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ConfigError(f"{where}: weights do not match {len(features)} features")
        return cls(features, *arrays, float(data["intercept"]))


@dataclass(frozen=True)
class ReaderWeights:
    version: str
    sentence: Logistic
    answer: Logistic
    threshold: float
    trained_on: str = ""
    figures: dict | None = None

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": self.version, "trained_on": self.trained_on,
                "sentence": self.sentence.to_json(), "answer": self.answer.to_json(),
                "threshold": self.threshold, "figures": self.figures or {}}


def load_weights(path: Path | None = None) -> ReaderWeights:
    """The weights shipped beside this module, or those at `path`; a stale or broken file is a ConfigError."""
    from .features import FEATURES, QUESTION_FEATURES

    where = str(path or WEIGHTS_FILE)
    try:
        text = path.read_text(encoding="utf-8") if path else resources.files(__package__).joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the reader's weights {where}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{where}: weights file format {data.get('format') if isinstance(data, dict) else '?'!r}, "
                          f"this version reads format {FORMAT}; retrain with `python -m rag.reader.train`")
    try:
        return ReaderWeights(
            version=str(data["version"]),
            sentence=Logistic.from_json(data["sentence"], FEATURES, where),
            answer=Logistic.from_json(data["answer"], QUESTION_FEATURES, where),
            threshold=float(data["threshold"]),
            trained_on=str(data.get("trained_on", "")),
            figures=data.get("figures") or {},
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{where}: weights file is missing {exc}; retrain with `python -m rag.reader.train`") from None


def save_weights(weights: ReaderWeights, path: Path) -> None:
    path.write_text(json.dumps(weights.to_json(), indent=1) + "\n", encoding="utf-8")
