"""A smaller test set with the same mix: answerable, unanswerable and follow-up questions keep
their shares, so a quick run still scores abstention and follow-ups.

Each kind gets its share of `n` by largest remainder (a kind with any items gets at least one
when `n` allows), its items are drawn at random with a fixed seed, and the sample keeps the file's
order. Usage: `stratified_sample(load_testset(path, "dev"), 100)`.
"""
from __future__ import annotations

import random
from collections import Counter
from typing import Sequence

from .testset import EvalItem

KINDS = ("answerable", "unanswerable", "follow-up")


def kind(item: EvalItem) -> str:
    """"follow-up" for an item with earlier questions, else whether it is answerable."""
    if item.history:
        return "follow-up"
    return "answerable" if item.answerable else "unanswerable"


def mix(items: Sequence[EvalItem]) -> dict[str, int]:
    """`mix(items) == {"answerable": 3, "unanswerable": 1, "follow-up": 0}`, every kind named."""
    counts = Counter(kind(i) for i in items)
    return {k: counts[k] for k in KINDS}


def shares(counts: dict[str, int], n: int) -> dict[str, int]:
    """How many of each kind a sample of `n` takes: `shares({"a": 6, "b": 3, "c": 1}, 5) == {"a": 3, "b": 1, "c": 1}`."""
    total = sum(counts.values())
    n = min(n, total)
    exact = {k: n * c / total for k, c in counts.items()} if total else {}
    taken = {k: int(v) for k, v in exact.items()}
    for k in counts:  # every kind present is represented when n allows
        if counts[k] and not taken[k] and sum(taken.values()) < n:
            taken[k] = 1
    for k in sorted(exact, key=lambda k: exact[k] - int(exact[k]), reverse=True):
        if sum(taken.values()) >= n:
            break
        if taken[k] < counts[k]:
            taken[k] += 1
    while sum(taken.values()) > n:  # the minimum of one overshot: take back from the largest
        largest = max(taken, key=taken.get)
        taken[largest] -= 1
    return taken


def stratified_sample(items: Sequence[EvalItem], n: int, seed: int = 0) -> list[EvalItem]:
    """`n` items (all of them when n is at least their number) in the same mix, in file order."""
    if n >= len(items):
        return list(items)
    rng = random.Random(seed)
    chosen: set[int] = set()
    for k, count in shares(mix(items), n).items():
        positions = [i for i, item in enumerate(items) if kind(item) == k]
        chosen.update(rng.sample(positions, count))
    return [items[i] for i in sorted(chosen)]
