"""A run's figures per group of items: by question type, by turn (first question or follow-up),
by what makes an unanswerable item unanswerable, and by the document an item's answer is in, so a
weak spot shows where it is.

Usage: `for g in breakdown(run.results): print(g.dimension, g.value, g.passed)`.
Groups come from the items' own fields (`qtype`, `history`, `kind`, `source`); a dimension no
item fills is left out, and so are turn and document when every item falls in one group (the
whole run says it already), so a file without them (any RAGAS file) gets no groups.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Sequence

from . import metrics as m

if TYPE_CHECKING:
    from .runner import ItemResult

DIMENSIONS: tuple[tuple[str, Callable[["ItemResult"], str]], ...] = (
    ("question type", lambda r: r.item.qtype),
    ("turn", lambda r: "follow-up" if r.item.history else "first question"),
    ("unanswerable kind", lambda r: "" if r.item.answerable else r.item.kind),
    ("document", lambda r: r.item.source),
)
WHOLE_WHEN_ONE = frozenset({"turn", "document"})  # one group of these would repeat the whole run


@dataclass(frozen=True)
class Group:
    """Figures of the items sharing one value of a dimension; None where no item of it is scored."""

    dimension: str
    value: str
    items: int
    answerable: int
    pass_rate: float
    hit_at_k: float | None
    fact_stated: float | None
    evidence_quoted: float | None
    false_abstentions: float | None  # share of the answerable items abstained on
    abstention_recall: float | None  # share of the unanswerable items abstained on


def breakdown(results: Sequence["ItemResult"]) -> list[Group]:
    """Every dimension some item fills, its groups largest first (ties by name)."""
    groups: list[Group] = []
    for dimension, key in DIMENSIONS:
        members: dict[str, list["ItemResult"]] = {}
        for r in results:
            if value := key(r):
                members.setdefault(value, []).append(r)
        if dimension in WHOLE_WHEN_ONE and len(members) < 2:
            continue
        for value, rs in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            groups.append(_group(dimension, value, rs))
    return groups


def _group(dimension: str, value: str, rs: Sequence["ItemResult"]) -> Group:
    answerable = [r for r in rs if r.item.answerable]
    unanswerable = [r for r in rs if not r.item.answerable]
    share = lambda group: sum(r.abstained for r in group) / len(group) if group else None  # noqa: E731
    return Group(
        dimension, value, len(rs), len(answerable), sum(r.passed for r in rs) / len(rs),
        m.mean([r.metrics.get("hit_at_k") for r in rs]), m.mean([r.metrics.get("fact_stated") for r in rs]),
        m.mean([r.metrics.get("evidence_quoted") for r in rs]), share(answerable), share(unanswerable),
    )
