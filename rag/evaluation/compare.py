"""A run against a baseline run (paired deltas, items that flipped) or against fixed gates.

Usage: `compare_runs(load_run("runs/a"), run)`; `failed_gates(summary, parse_gates(["hit_at_k=0.8"]))`.
Only items present in both runs (matched by id) are compared, so the numbers on both sides of
a delta come from the same questions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from passage.errors import InputError

from .bootstrap import RESAMPLES, SEED, paired_ci
from .runner import AGGREGATES, EvalRun, Summary


@dataclass(frozen=True)
class MetricDelta:
    name: str
    label: str
    before: float | None
    after: float | None
    delta: float | None
    low: float | None
    high: float | None
    higher_is_better: bool = True

    @property
    def verdict(self) -> str:
        """better / worse when the interval excludes zero, "no change" when it holds it, "n/a" undefined."""
        if self.low is None or self.high is None:
            return "n/a"
        if self.low <= 0 <= self.high:
            return "no change"
        up = self.low > 0
        return "better" if up == self.higher_is_better else "worse"


@dataclass(frozen=True)
class Flip:
    id: str
    question: str


@dataclass(frozen=True)
class Comparison:
    common: int
    only_before: int
    only_after: int
    deltas: tuple[MetricDelta, ...]
    pass_to_fail: tuple[Flip, ...]
    fail_to_pass: tuple[Flip, ...]


def compare_runs(before: EvalRun, after: EvalRun, resamples: int = RESAMPLES, seed: int = SEED) -> Comparison:
    """Per-metric after - before with a paired bootstrap interval, and the items that flipped."""
    old = {r.item.id: r for r in before.results}
    new = {r.item.id: r for r in after.results}
    ids = [i for i in new if i in old]
    a, b = [old[i] for i in ids], [new[i] for i in ids]
    deltas = []
    for agg in AGGREGATES:
        ci = paired_ci(a, b, agg.statistic, resamples, seed)
        deltas.append(MetricDelta(agg.name, agg.label, agg.statistic(a) if a else None, agg.statistic(b) if b else None,
                                  ci.value, ci.low, ci.high, agg.higher_is_better))
    down = tuple(Flip(i, new[i].item.question) for i in ids if old[i].passed and not new[i].passed)
    up = tuple(Flip(i, new[i].item.question) for i in ids if not old[i].passed and new[i].passed)
    return Comparison(len(ids), len(old) - len(ids), len(new) - len(ids), tuple(deltas), down, up)


# --- gates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Gate:
    """`--fail-under name=value`: the run fails when the metric's value is below `threshold`."""

    metric: str
    threshold: float


def gate_names() -> list[str]:
    return [a.name for a in AGGREGATES if a.higher_is_better]


def parse_gates(specs: Sequence[str]) -> list[Gate]:
    """`parse_gates(["hit_at_k=0.8"]) == [Gate("hit_at_k", 0.8)]`; a bad spec raises InputError."""
    gates = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep:
            raise InputError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. hit_at_k=0.8")
        if name not in gate_names():
            lower = [a.name for a in AGGREGATES if not a.higher_is_better]
            hint = " (lower is better there, so it cannot gate from below)" if name in lower else ""
            raise InputError(f"--fail-under: unknown metric {name!r}{hint}; choose one of: {', '.join(gate_names())}")
        try:
            threshold = float(value)
        except ValueError:
            raise InputError(f"--fail-under {spec!r}: {value.strip()!r} is not a number") from None
        gates.append(Gate(name, threshold))
    return gates


def failed_gates(summary: Summary, gates: Sequence[Gate]) -> list[str]:
    """One message per gate the run misses; a metric with no value misses its gate."""
    failures = []
    for gate in gates:
        value = summary.metric(gate.metric).value
        if value is None:
            failures.append(f"{gate.metric} has no value in this run (needs {gate.threshold:g})")
        elif value < gate.threshold:
            failures.append(f"{gate.metric} = {value:.3f} is under {gate.threshold:g}")
    return failures

