"""The default offline answerer: the trained sentence reader's pick, cited, or an abstention.

The reader scores every sentence of the retrieval's pool; the passages shown are re-ranked by
their best sentence; the answer quotes the lead sentence (and the sentence a pronoun lead refers
back to, and at most one more close runner-up). Below the calibrated answerability threshold it
abstains and lists the closest passages as related. `Answer.confidence` is the calibrated
probability that the answer quotes the evidence.
Usage: `ReaderAnswerer(reader).answer(question, retriever.search(query))`.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator

from passage.models import Answer, Passage, Retrieval

from ..citations import abstention, cite
from .reader import Reader


class ReaderAnswerer:
    name = "reader"

    def __init__(self, reader: Reader, threshold: float | None = None):
        self.reader = reader
        self.threshold = reader.calibration.threshold if threshold is None else threshold

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        if not retrieval.passages:
            return abstention(question, retrieval.passages, self.name)
        reading = self.reader.read(question, retrieval)
        shown = reading.ranked or tuple(retrieval.passages)
        if not reading.chosen or reading.answerable < self.threshold:
            return dataclasses.replace(abstention(question, shown, self.name), confidence=round(reading.confidence, 4),
                                       answerability=round(reading.answerable, 4))
        picked = [(c.text, c.passage) for c in reading.chosen]
        shown = include_cited(shown, [p for _, p in picked])
        answer = cite(question, picked, shown, self.name)
        return dataclasses.replace(answer, retrieved=shown, confidence=round(reading.confidence, 4),
                                   answerability=round(reading.answerable, 4))

    def stream(self, question: str, retrieval: Retrieval) -> Iterator[str | Answer]:
        """The whole answer text as one piece, then the answer."""
        answer = self.answer(question, retrieval)
        yield answer.text
        yield answer


def include_cited(shown: tuple[Passage, ...], cited: list[Passage]) -> tuple[Passage, ...]:
    """The passages to show, every cited one among them: a cited passage from further down the pool
    takes the place of the lowest-ranked passage that is not cited."""
    out = list(shown)
    for passage in dict.fromkeys(cited):
        if passage in out:
            continue
        spare = next((i for i in range(len(out) - 1, -1, -1) if out[i] not in cited), None)
        if spare is None:
            out.append(passage)
        else:
            out[spare] = passage
    return tuple(out)
