"""The reader's learned weights: three logistic regressions in one versioned JSON file.

`sentence` scores each candidate (probability it states the answer); `answerable` scores the
question given the best sentence and its passage (probability the documents answer it), and
`threshold` is the calibrated operating point below which the reader abstains; `right` gives
the answer's confidence (probability its lead sentence answers the question). Inference is numpy only, so asking never imports scikit-learn.
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

FORMAT = 2
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
                              "retrain with `passage train-reader`")
        arrays = [np.asarray(data[k], dtype=float) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ConfigError(f"{where}: weights do not match {len(features)} features")
        return cls(features, *arrays, float(data["intercept"]))


@dataclass(frozen=True)
class ReaderWeights:
    version: str
    sentence: Logistic
    answerable: Logistic
    right: Logistic
    threshold: float
    follow_ratio: float = 0.6
    trained_on: str = ""
    figures: dict | None = None

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": self.version, "trained_on": self.trained_on,
                "sentence": self.sentence.to_json(), "answerable": self.answerable.to_json(), "right": self.right.to_json(),
                "threshold": self.threshold, "follow_ratio": self.follow_ratio, "figures": self.figures or {}}


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
                          f"this version reads format {FORMAT}; retrain with `passage train-reader`")
    try:
        return ReaderWeights(
            version=str(data["version"]),
            sentence=Logistic.from_json(data["sentence"], FEATURES, where),
            answerable=Logistic.from_json(data["answerable"], QUESTION_FEATURES, where),
            right=Logistic.from_json(data["right"], QUESTION_FEATURES, where),
            threshold=float(data["threshold"]),
            follow_ratio=float(data.get("follow_ratio", 0.6)),
            trained_on=str(data.get("trained_on", "")),
            figures=data.get("figures") or {},
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{where}: weights file is missing {exc}; retrain with `passage train-reader`") from None


def weights_path() -> Path:
    """Where the shipped weights file lives (beside this module)."""
    return Path(__file__).resolve().with_name(WEIGHTS_FILE)


def blank_weights() -> ReaderWeights:
    """All-zero weights: every candidate scores 0.5; used to compute features before training."""
    from .features import FEATURES, QUESTION_FEATURES

    def zero(names):
        return Logistic(tuple(names), np.zeros(len(names)), np.ones(len(names)), np.zeros(len(names)), 0.0)

    return ReaderWeights("blank", zero(FEATURES), zero(QUESTION_FEATURES), zero(QUESTION_FEATURES), 0.0)


def save_weights(weights: ReaderWeights, path: Path) -> None:
    path.write_text(json.dumps(weights.to_json(), indent=1) + "\n", encoding="utf-8")
