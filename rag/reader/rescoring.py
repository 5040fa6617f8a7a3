"""When and how much the question-likelihood model (likelihood.py) re-orders the reader's top
sentences, and how that is chosen on labelled questions.

The rule: when the sentence model's top two candidates are within `margin` log-odds, its top
`top` are re-ordered by log-odds plus `weight` times the model's mean log-probability of the
question after each. The re-ordered candidates take over the same probabilities (the best goes
to the new first), so the abstention and confidence models, trained on these values, see values
they know. `passage tune-rescore` picks (top, weight, margin) on the dev split and writes them,
with its figures, to `rescoring.json` beside this module.
Usage: `rescored(probs, lambda order: model.score(q, [contexts[i] for i in order]), load_rescoring())`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from passage.errors import ConfigError

from .files import read_versioned

FORMAT = 1
RESCORING_FILE = "rescoring.json"
TOPS = (2, 3, 4, 8)
WEIGHTS = (1.0, 2.0, 4.0, 8.0)
MARGINS = (0.25, 0.5, 0.75, 1.0, float("inf"))
# Asking the language model takes about a quarter of a second per sentence on two cores: the
# setting chosen may consult it on at most this share of questions, so most answers never wait.
MAX_CONSULTED = 0.35
# Among those, settings within this much lead right of the best count as equal (3 of the 564 dev
# questions it is tuned on) and the one that scores the fewest sentences per question is chosen.
TOLERANCE = 0.005


@dataclass(frozen=True)
class Rescoring:
    top: int
    weight: float
    margin: float
    version: str = ""
    trained_on: str = ""
    figures: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": self.version, "trained_on": self.trained_on, "top": self.top,
                "weight": self.weight, "margin": self.margin, "figures": self.figures}


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def consults(probs: np.ndarray, margin: float) -> bool:
    """Whether the top two of `probs` are close enough (within `margin` log-odds) to ask the model."""
    return len(probs) >= 2 and gap(probs) <= margin


def rescored(probs: np.ndarray, fit: Callable[[np.ndarray], np.ndarray], rule: Rescoring) -> np.ndarray:
    """`probs` with the top `rule.top` re-ordered when they are a close call; `fit(order)` gives the
    model's scores of the candidates at those indices (asked only for a close call)."""
    if rule.top < 2 or rule.weight == 0 or not consults(probs, rule.margin):
        return probs
    order = np.argsort(-probs, kind="stable")[: rule.top]
    combined = log_odds(probs[order]) + rule.weight * np.asarray(fit(order), dtype=float)
    new = order[np.argsort(-combined, kind="stable")]
    out = probs.copy()
    out[new] = probs[order]
    return out


@dataclass(frozen=True)
class Row:
    """One labelled question: the sentence model's probabilities of its best candidates (best
    first), the language model's scores of them, and which hold the evidence."""

    probs: np.ndarray
    fit: np.ndarray
    labels: np.ndarray


def lead_right(rows: Sequence[Row], rule: Rescoring) -> float:
    """Share of `rows` whose lead after re-scoring holds the evidence."""
    right = [r.labels[int(np.argmax(rescored(r.probs, lambda order, r=r: r.fit[order], rule)))] for r in rows]
    return float(np.mean(right)) if right else 0.0


def grid(rows: Sequence[Row], gaps: Sequence[float]) -> list[dict]:
    """Every (top, weight, margin) with its lead right on `rows` and the share of all questions
    (their top-two log-odds `gaps`) it consults the model on; plus the rule that never consults
    it (weight 0)."""
    gaps = np.asarray(gaps, dtype=float)
    out = [{"top": 1, "weight": 0.0, "margin": -1.0, "lead_right": lead_right(rows, Rescoring(1, 0.0, -1.0)),
            "consulted": 0.0}]
    for top in TOPS:
        for weight in WEIGHTS:
            for margin in MARGINS:
                rule = Rescoring(top, weight, margin)
                out.append({"top": top, "weight": weight, "margin": margin, "lead_right": lead_right(rows, rule),
                            "consulted": float(np.mean(gaps <= margin)) if len(gaps) else 0.0})
    return out


def best(table: Sequence[dict], max_consulted: float = MAX_CONSULTED, tolerance: float = TOLERANCE) -> dict:
    """Among the rows consulting the model on at most `max_consulted` of the questions, those within
    `tolerance` of the highest lead right, the one scoring the fewest sentences per question
    (consulted share x top); ties go to the higher lead right, then the smaller weight."""
    allowed = [row for row in table if row["consulted"] <= max_consulted + 1e-12]
    top = max(row["lead_right"] for row in allowed)
    near = [row for row in allowed if row["lead_right"] >= top - tolerance - 1e-12]
    return min(near, key=lambda row: (round(row["consulted"] * row["top"] * (row["weight"] > 0), 9), -row["lead_right"],
                                      row["weight"]))


def gap(probs: np.ndarray) -> float:
    """The log-odds gap between the best two of `probs` (infinite with fewer than two)."""
    if len(probs) < 2:
        return float("inf")
    odds = log_odds(np.sort(np.asarray(probs, dtype=float))[::-1][:2])
    return float(odds[0] - odds[1])


def rescoring_path() -> Path:
    return Path(__file__).resolve().with_name(RESCORING_FILE)


def load_rescoring(path: Path | None = None) -> Rescoring:
    """The rule shipped beside this module, or the one at `path`; a stale or broken file is a ConfigError."""
    data, where = read_versioned(path, RESCORING_FILE, FORMAT, "re-scoring rule", "rerun `passage tune-rescore`")
    try:
        rule = Rescoring(int(data["top"]), float(data["weight"]), float(data["margin"]), str(data.get("version", "")),
                         str(data.get("trained_on", "")), data.get("figures") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: re-scoring file has a missing or bad value ({exc}); rerun `passage tune-rescore`") from None
    if rule.top < 1 or rule.weight < 0:
        raise ConfigError(f"{where}: re-scoring needs top >= 1 and weight >= 0; rerun `passage tune-rescore`")
    return rule


def save_rescoring(rule: Rescoring, path: Path) -> None:
    data = rule.to_json()
    data["margin"] = rule.margin if np.isfinite(rule.margin) else 1e9  # JSON has no infinity
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def rows(examples: Sequence, probs: Sequence[np.ndarray], likelihood, top: int = max(TOPS),
         progress: Callable[[int, int], None] | None = None) -> list[Row]:
    """A Row for each answerable example whose evidence is a candidate: its best `top` candidates
    by `probs` (out-of-fold sentence probabilities), scored by `likelihood`."""
    chosen = [(e, p) for e, p in zip(examples, probs) if e.answerable and e.labels.any()]
    out = []
    for done, (example, p) in enumerate(chosen, start=1):
        order = np.argsort(-p, kind="stable")[:top]
        fit = likelihood.score(example.inputs.question, [example.inputs.candidates[i].context for i in order])
        out.append(Row(p[order], np.asarray(fit, dtype=float), example.labels[order]))
        if progress:
            progress(done, len(chosen))
    return out


def tune(examples: Sequence, probs: Sequence[np.ndarray], likelihood, version: str, trained_on: str,
         progress: Callable[[int, int], None] | None = None) -> Rescoring:
    """The rule with the best lead right on `examples` (see `best`), with the whole grid as figures."""
    found = rows(examples, probs, likelihood, progress=progress)
    if not found:
        raise ConfigError("tuning re-scoring needs answerable questions whose evidence the reader finds; there are none")
    table = grid(found, [gap(p) for p in probs])
    pick = best(table)
    figures = {"items": len(examples), "questions": len(found), "lead_right_without": table[0]["lead_right"],
               "lead_right": pick["lead_right"], "consulted": pick["consulted"], "max_consulted": MAX_CONSULTED,
               "tolerance": TOLERANCE,
               "grid": [{**row, "margin": row["margin"] if np.isfinite(row["margin"]) else None} for row in table]}
    return Rescoring(pick["top"], pick["weight"], pick["margin"], version, trained_on, figures)
