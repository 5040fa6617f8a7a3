"""95% confidence intervals by the percentile bootstrap, seeded so a run's numbers repeat.

`bootstrap_ci(items, statistic)` draws `resamples` (1000) samples of the items with
replacement from `numpy.random.default_rng(seed=0)`, computes the statistic on each and takes
the 2.5th and 97.5th percentiles. Whole items are resampled, not values, so one routine serves
means over the items a metric is defined for, ratios such as abstention precision, and latency
percentiles. Draws where the statistic is undefined (None, e.g. no unanswerable item drawn)
are skipped. With few items the interval is wide, which is the point.

`paired_ci(before, after, statistic)` applies the same drawn indices to both runs (items
aligned by id), so each draw compares the same questions: the interval of after - before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

import numpy as np

T = TypeVar("T")
Statistic = Callable[[Sequence[T]], "float | None"]

RESAMPLES = 1000
SEED = 0
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval; all None when undefined."""

    value: float | None
    low: float | None
    high: float | None

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def bootstrap_ci(items: Sequence[T], statistic: Statistic, resamples: int = RESAMPLES, seed: int = SEED,
                 confidence: float = CONFIDENCE) -> Interval:
    """`bootstrap_ci([1.0] * 5, mean) == Interval(1.0, 1.0, 1.0)`"""
    value = statistic(items) if items else None
    if value is None:
        return Interval(None, None, None)
    rng = np.random.default_rng(seed)
    draws = [statistic([items[i] for i in idx]) for idx in rng.integers(0, len(items), (resamples, len(items)))]
    return Interval(value, *_bounds(draws, confidence))


def paired_ci(before: Sequence[T], after: Sequence[T], statistic: Statistic, resamples: int = RESAMPLES,
              seed: int = SEED, confidence: float = CONFIDENCE) -> Interval:
    """Interval of statistic(after) - statistic(before), with before[i] and after[i] the same item."""
    if len(before) != len(after):
        raise ValueError("paired samples must have the same length")
    value = _delta(before, after, statistic, range(len(before))) if before else None
    if value is None:
        return Interval(None, None, None)
    rng = np.random.default_rng(seed)
    draws = [_delta(before, after, statistic, idx) for idx in rng.integers(0, len(before), (resamples, len(before)))]
    return Interval(value, *_bounds(draws, confidence))


def _delta(before, after, statistic, idx) -> float | None:
    a, b = statistic([before[i] for i in idx]), statistic([after[i] for i in idx])
    return None if a is None or b is None else b - a


def _bounds(draws: list, confidence: float) -> tuple[float | None, float | None]:
    defined = [d for d in draws if d is not None]
    if not defined:
        return None, None
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)
