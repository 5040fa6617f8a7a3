"""Training groups for the reading model: a question with its answer sentence and hard negatives.

For each question: the sentence that holds the answer (positive), up to `same_paragraph` other
sentences of its paragraph and `same_article` sentences of other paragraphs of the article
(negatives: on topic, without the answer). Answerability needs unanswerable questions, which
no public set here has, so some are made: with probability `swap_rate` a name, number or year
that the question shares with its answer sentence is swapped for another one of the same kind
from the article, and the answer sentence becomes a negative for the swapped question.

`groups(qas, rng)` -> [Group("How old...", [Pair(text, 1), Pair(text, 0), ...]), ...]
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from ingest.sentences import sentence_spans
from rag.reader.pairs import pair_text

from .squad import QA

MIN_WORDS = 3
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+|the\s+)?[A-Z][a-z]+)*\b")


@dataclass(frozen=True)
class Pair:
    question: str
    text: str
    label: int


@dataclass(frozen=True)
class Group:
    question: str
    pairs: tuple[Pair, ...]
    kind: str  # "answerable" or "swapped"


def sentences(paragraph: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b in sentence_spans(paragraph) if len(paragraph[a:b].split()) >= MIN_WORDS]


def _gold(qa: QA, spans: Sequence[tuple[int, int]]) -> int | None:
    end = qa.start + len(qa.answer)
    for i, (a, b) in enumerate(spans):
        if a <= qa.start and end <= b:
            return i
    return None


def _values(text: str) -> tuple[set[str], set[str]]:
    """Numbers and capitalised names in `text`."""
    return set(_NUMBER.findall(text)), {m for m in _NAME.findall(text) if len(m) > 2}


def swap(question: str, sentence: str, article: tuple[set[str], set[str]], rng: random.Random) -> str | None:
    """`question` with one number or name it shares with `sentence` replaced by another of the
    article's (`article`: its numbers and names) that `sentence` does not hold; None when there
    is nothing to swap."""
    q_numbers, q_names = _values(question)
    s_numbers, s_names = _values(sentence)
    a_numbers, a_names = article
    options = []
    for value in sorted(q_numbers & s_numbers):  # sorted: the same groups in every process
        pool = sorted(n for n in a_numbers - s_numbers if len(n) == len(value) and n != value)
        options += [(value, pool)] if pool else []
    first = question.split()[0] if question.split() else ""
    for value in sorted(q_names):
        if value == first or not any(value in s for s in [sentence]):
            continue
        pool = sorted(n for n in a_names - s_names if n.lower() not in sentence.lower() and n.lower() not in question.lower())
        options += [(value, pool)] if pool else []
    if not options:
        return None
    value, pool = rng.choice(options)
    return re.sub(rf"\b{re.escape(value)}\b", rng.choice(pool), question, count=1)


def groups(qas: Iterable[QA], rng: random.Random, same_paragraph: int = 2, same_article: int = 1,
           swap_rate: float = 0.25, others: Iterable[QA] = ()) -> list[Group]:
    """Training groups for `qas` (see the module docstring); `others` only lend their paragraphs
    as same-article negatives and swap values."""
    qas = list(qas)
    by_article: dict[str, dict[str, str]] = defaultdict(dict)
    for qa in [*qas, *others]:
        by_article[qa.paragraph_id.rsplit("/", 1)[0]][qa.paragraph_id] = qa.paragraph
    split_cache: dict[str, list[tuple[int, int]]] = {}
    article_values: dict[str, tuple[set[str], set[str]]] = {}
    out = []
    for qa in qas:
        spans = split_cache.setdefault(qa.paragraph_id, sentences(qa.paragraph))
        gold = _gold(qa, spans)
        if gold is None:
            continue
        texts = [pair_text(qa.paragraph[a:b], qa.title, qa.paragraph[spans[i - 1][0]:spans[i - 1][1]] if i else "")
                 for i, (a, b) in enumerate(spans)]
        negatives = [texts[i] for i in rng.sample([i for i in range(len(spans)) if i != gold],
                                                  min(same_paragraph, len(spans) - 1))]
        article = qa.paragraph_id.rsplit("/", 1)[0]
        others = [p for p in by_article[article] if p != qa.paragraph_id]
        for pid in rng.sample(others, min(same_article, len(others))):
            para = by_article[article][pid]
            ospans = split_cache.setdefault(pid, sentences(para))
            if ospans:
                i = rng.randrange(len(ospans))
                negatives.append(pair_text(para[ospans[i][0]:ospans[i][1]], qa.title,
                                           para[ospans[i - 1][0]:ospans[i - 1][1]] if i else ""))
        sentence = qa.paragraph[spans[gold][0]:spans[gold][1]]
        swapped = None
        if rng.random() < swap_rate:
            if article not in article_values:
                article_values[article] = _values("\n".join(by_article[article].values()))
            swapped = swap(qa.question, sentence, article_values[article], rng)
        if swapped:
            out.append(Group(swapped, tuple(Pair(swapped, t, 0) for t in [texts[gold], *negatives]), "swapped"))
        else:
            out.append(Group(qa.question, (Pair(qa.question, texts[gold], 1),
                                           *(Pair(qa.question, t, 0) for t in negatives)), "answerable"))
    return out
