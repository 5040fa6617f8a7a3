"""The reader's first stage: three small models in one versioned JSON file (model/weights.json).

`sentence` (a logistic regression) scores each candidate (probability it states the answer),
which decides the candidates the reading model reads; `answerable` (gradient-boosted trees)
scores the question given the best sentence and its passage (probability the documents answer
it), one of the signals the reading model's calibration combines; `right` and `threshold` are
the first stage's own confidence model and operating point, kept with its training figures.
Each model is stored with its `kind` and the feature names it was trained on. Inference is
numpy only, so asking never imports scikit-learn.
Usage: `weights = load_weights(); weights.sentence.predict(matrix)`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from passage.errors import ConfigError

from .files import read_versioned

FORMAT = 3
WEIGHTS_FILE = "model/weights.json"


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class Scorer(Protocol):
    """A trained model over named features: rows in, probabilities out."""

    features: tuple[str, ...]

    def predict(self, matrix: np.ndarray) -> np.ndarray: ...

    def to_json(self) -> dict: ...


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
        return _sigmoid(z)

    def to_json(self) -> dict:
        return {"kind": "logistic", "features": list(self.features), "mean": self.mean.tolist(),
                "scale": self.scale.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept}

    @classmethod
    def from_json(cls, data: dict, expected: Sequence[str], where: str) -> "Logistic":
        features = _checked_features(data, expected, where)
        arrays = [np.asarray(data[k], dtype=float) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise ConfigError(f"{where}: weights do not match {len(features)} features")
        return cls(features, *arrays, float(data["intercept"]))


@dataclass(frozen=True)
class Tree:
    """One regression tree as parallel node arrays; a leaf has feature -1. Row goes left when x <= threshold."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray

    def leaf_values(self, matrix: np.ndarray) -> np.ndarray:
        node = np.zeros(len(matrix), dtype=int)
        rows = np.arange(len(matrix))
        for _ in range(len(self.feature)):
            inner = self.feature[node] >= 0
            if not inner.any():
                break
            at = node[inner]
            go_left = matrix[rows[inner], self.feature[at]] <= self.threshold[at]
            node[inner] = np.where(go_left, self.left[at], self.right[at])
        return self.value[node]

    def to_json(self) -> dict:
        return {"feature": self.feature.tolist(), "threshold": self.threshold.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "value": self.value.tolist()}

    @classmethod
    def from_json(cls, data: dict, width: int, where: str) -> "Tree":
        ints = [np.asarray(data[k], dtype=int) for k in ("feature", "left", "right")]
        floats = [np.asarray(data[k], dtype=float) for k in ("threshold", "value")]
        feature, left, right = ints
        n = len(feature)
        if n == 0 or any(a.shape != (n,) for a in ints + floats) or feature.max() >= width:
            raise ConfigError(f"{where}: a tree does not match {width} features")
        inner = feature >= 0
        if ((left[inner] <= np.arange(n)[inner]) | (right[inner] <= np.arange(n)[inner]) | (left[inner] >= n)
                | (right[inner] >= n)).any():
            raise ConfigError(f"{where}: a tree's node links are broken")
        return cls(feature, floats[0], left, right, floats[1])


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted trees: sigmoid(base + rate * sum of the trees' leaf values).

    Features are compared at float32 precision, as scikit-learn's trees compare them, so the
    probabilities equal `GradientBoostingClassifier.predict_proba`'s.
    `Trees(("x",), 0.0, 1.0, (Tree(np.array([0, -1, -1]), np.array([.5, 0, 0]), np.array([1, -1, -1]),
    np.array([2, -1, -1]), np.array([0., -2., 2.])),)).predict([[0.], [1.]])` == sigmoid([-2, 2]).
    """

    features: tuple[str, ...]
    base: float
    rate: float
    trees: tuple[Tree, ...]

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        matrix = np.asarray(matrix, dtype=float)
        if matrix.size == 0:
            return np.zeros(len(matrix))
        matrix = matrix.astype(np.float32).astype(float)
        z = self.base + self.rate * sum(tree.leaf_values(matrix) for tree in self.trees)
        return _sigmoid(z)

    def to_json(self) -> dict:
        return {"kind": "trees", "features": list(self.features), "base": self.base, "rate": self.rate,
                "trees": [t.to_json() for t in self.trees]}

    @classmethod
    def from_json(cls, data: dict, expected: Sequence[str], where: str) -> "Trees":
        features = _checked_features(data, expected, where)
        trees = tuple(Tree.from_json(t, len(features), where) for t in data["trees"])
        if not trees:
            raise ConfigError(f"{where}: no trees")
        return cls(features, float(data["base"]), float(data["rate"]), trees)


KINDS = {"logistic": Logistic, "trees": Trees}


def _checked_features(data: dict, expected: Sequence[str], where: str) -> tuple[str, ...]:
    features = tuple(data["features"])
    if features != tuple(expected):
        raise ConfigError(f"{where}: trained on features {list(features)}, the code computes {list(expected)}; "
                          "retrain with `passage train-reader`")
    return features


def model_from_json(data: dict, expected: Sequence[str], where: str) -> Scorer:
    """The model a weights file's entry describes, by its `kind`."""
    kind = data.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}: unknown model kind {kind!r} (this version reads {', '.join(KINDS)})")
    return KINDS[kind].from_json(data, expected, where)


@dataclass(frozen=True)
class ReaderWeights:
    version: str
    sentence: Scorer
    answerable: Scorer
    right: Scorer
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

    data, where = read_versioned(path, WEIGHTS_FILE, FORMAT, "weights", "retrain with `passage train-reader`")
    try:
        return ReaderWeights(
            version=str(data["version"]),
            sentence=model_from_json(data["sentence"], FEATURES, where),
            answerable=model_from_json(data["answerable"], QUESTION_FEATURES, where),
            right=model_from_json(data["right"], QUESTION_FEATURES, where),
            threshold=float(data["threshold"]),
            follow_ratio=float(data.get("follow_ratio", 0.6)),
            trained_on=str(data.get("trained_on", "")),
            figures=data.get("figures") or {},
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: weights file is missing {exc}; retrain with `passage train-reader`") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where}: weights file has a malformed entry ({exc}); retrain with `passage train-reader`") from None


def weights_path() -> Path:
    """Where the shipped weights file lives (in the model folder beside this module)."""
    return Path(__file__).resolve().parent / WEIGHTS_FILE


def blank_weights() -> ReaderWeights:
    """All-zero weights: every candidate scores 0.5; used to compute features before training."""
    from .features import FEATURES, QUESTION_FEATURES

    def zero(names):
        return Logistic(tuple(names), np.zeros(len(names)), np.ones(len(names)), np.zeros(len(names)), 0.0)

    return ReaderWeights("blank", zero(FEATURES), zero(QUESTION_FEATURES), zero(QUESTION_FEATURES), 0.0)


def save_weights(weights: ReaderWeights, path: Path) -> None:
    path.write_text(json.dumps(weights.to_json(), indent=1) + "\n", encoding="utf-8")
