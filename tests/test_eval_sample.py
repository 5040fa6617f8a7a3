"""A sample of a test set keeps its mix of answerable, unanswerable and follow-up questions."""
from __future__ import annotations

from rag.evaluation.sample import mix, shares, stratified_sample
from rag.evaluation.testset import EvalItem


def items(answerable: int, unanswerable: int, follow_ups: int) -> list[EvalItem]:
    made = [EvalItem(id=f"a{i}", question="q", answerable=True) for i in range(answerable)]
    made += [EvalItem(id=f"u{i}", question="q", answerable=False) for i in range(unanswerable)]
    made += [EvalItem(id=f"f{i}", question="q", history=("earlier",)) for i in range(follow_ups)]
    return made


def test_shares_by_largest_remainder():
    assert shares({"a": 6, "b": 3, "c": 1}, 5) == {"a": 3, "b": 1, "c": 1}  # 3, 1.5, 0.5: the rarest kind still gets one
    assert shares({"a": 579, "b": 411, "c": 170}, 100) == {"a": 50, "b": 35, "c": 15}  # 49.9, 35.4, 14.7
    assert shares({"a": 2, "b": 0, "c": 1}, 10) == {"a": 2, "b": 0, "c": 1}
    assert shares({"a": 5, "b": 5, "c": 5}, 2) == {"a": 1, "b": 1, "c": 0}


def test_a_sample_keeps_the_mix_and_the_file_order():
    pool = items(60, 30, 10)
    sample = stratified_sample(pool, 20)
    assert mix(sample) == {"answerable": 12, "unanswerable": 6, "follow-up": 2}
    order = [pool.index(i) for i in sample]
    assert order == sorted(order)
    assert stratified_sample(pool, 20) == sample  # the same seed draws the same items
    assert stratified_sample(pool, 20, seed=1) != sample
    assert stratified_sample(pool, 500) == pool


def test_the_first_n_items_would_not_do():
    """What the page did before: the bundled file's first items are all answerable."""
    pool = items(60, 30, 10)
    assert mix(pool[:20])["unanswerable"] == 0 and mix(stratified_sample(pool, 20))["unanswerable"] == 6
