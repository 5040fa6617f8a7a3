"""What every answerer shares: the Answerer protocol, citation numbering and the abstention text."""
from __future__ import annotations

import re
from typing import Protocol, Sequence

from passage.models import Answer, AnswerSentence, Citation, Passage

ABSTAIN_TEXT = "The documents do not answer this question. The closest passages are listed as related."
MARKER = re.compile(r"\[(\d+)\]")


class Answerer(Protocol):
    name: str

    def answer(self, question: str, query: str, passages: Sequence[Passage]) -> Answer:
        """An answer whose [n] markers refer to its citations."""


def abstention(question: str, passages: Sequence[Passage], answerer: str, notice: str = "") -> Answer:
    return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, citations=(), retrieved=tuple(passages),
                  answerer=answerer, notice=notice)


def cite(question: str, picked: Sequence[tuple[str, Passage]], passages: Sequence[Passage], answerer: str) -> Answer:
    """Number passages in order of first use and mark each quoted sentence with its number.

    `picked` is (sentence, passage) in answer order; a passage quoted twice gets one number.
    """
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    sentences = []
    for text, passage in picked:
        n = numbers.setdefault(passage.chunk.id, len(numbers) + 1)
        quotes.setdefault(passage.chunk.id, []).append(text)
        sentences.append(AnswerSentence(text, (n,), True))
    by_id = {p.chunk.id: p for p in passages}
    citations = tuple(Citation(n, by_id[cid], tuple(quotes[cid])) for cid, n in numbers.items())
    body = " ".join(f"{s.text} [{s.markers[0]}]" for s in sentences)
    return Answer(question=question, text=body, abstained=False, citations=citations, retrieved=tuple(passages),
                  sentences=tuple(sentences), answerer=answerer, groundedness=1.0 if sentences else None)


def markers(text: str) -> list[int]:
    """`markers("a [1] b [3][1]") == [1, 3, 1]`."""
    return [int(m) for m in MARKER.findall(text)]
