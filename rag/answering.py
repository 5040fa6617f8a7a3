"""The answering contract: what an answerer and a follow-up rewriter must do, and their pairing.

An answerer turns a question and what retrieval found for it into an `Answer` whose [n]
markers refer to its citations; `stream` gives the same answer with text pieces first (an
answerer that cannot stream gives its whole text as one piece). A rewriter turns a follow-up
into the standalone query retrieval searches with.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

from passage.models import Answer, Retrieval


class Answerer(Protocol):
    name: str

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        """An answer whose [n] markers refer to its citations; no passages means an abstention."""

    def stream(self, question: str, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Text pieces as they are written, then the final Answer (equal to `answer`'s) as the last item."""


class QueryRewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[str]) -> str:
        """The retrieval query for `question` after the earlier questions `history` (oldest first)."""


@dataclass(frozen=True)
class Answering:
    """An answerer with the rewriter that makes its retrieval queries."""

    answerer: Answerer
    rewriter: QueryRewriter
