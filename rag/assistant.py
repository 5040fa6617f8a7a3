"""The one object that answers, for the CLI, the web chat and the evaluation.

A question is cleaned, rewritten into a standalone query when it follows earlier ones,
searched, and answered by the answerer named for the call (default `settings.answerer`);
the final answer carries the query and the time each step took. The object graph is built
by `app.wiring.build_assistant(settings)`; nothing is built at import time.
Usage: `build_assistant(Settings()).ask("How old was Yeonmi Park?")`.
"""
from __future__ import annotations

import dataclasses
import re
import time
from typing import Callable, Iterator, Mapping, Sequence

from passage.errors import InputError
from passage.models import Answer
from passage.settings import Settings

from .answering import Answerer, Answering
from .retrieval import Retriever

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Assistant:
    """`answerings` maps each answerer name to a function that builds it with its rewriter, on first use."""

    def __init__(self, settings: Settings, retriever: Retriever, answerings: Mapping[str, Callable[[], Answering]]):
        self.settings = settings
        self.retriever = retriever
        self._make = dict(answerings)
        self._built: dict[str, Answering] = {}

    def ask(self, question: str, history: Sequence[str] = (), *, k: int | None = None, mode: str | None = None,
            source: str | None = None, answerer: str | None = None) -> Answer:
        """The final answer of `stream`, asked of the answerer without streaming.

        (A server reports some failures, such as a prompt over its context window, only to a
        request that does not stream; the final Answer is otherwise the same.)
        """
        *_, answer = self._run(question, history, k, mode, source, answerer, streaming=False)
        return answer

    def stream(self, question: str, history: Sequence[str] = (), *, k: int | None = None, mode: str | None = None,
               source: str | None = None, answerer: str | None = None) -> Iterator[str | Answer]:
        """Text pieces as the answerer writes them, then the final Answer with its query and timings."""
        return self._run(question, history, k, mode, source, answerer, streaming=True)

    def _run(self, question: str, history: Sequence[str], k: int | None, mode: str | None, source: str | None,
             answerer: str | None, streaming: bool) -> Iterator[str | Answer]:
        question = clean_question(question)
        chosen = self.answering(answerer)
        earlier = [clean_question(h, f"history entry {n}") for n, h in enumerate(history, 1) if h and h.strip()]
        query = chosen.rewriter.rewrite(question, earlier)
        began = time.perf_counter()
        retrieval = self.retriever.search(query, k or self.settings.k, mode or self.settings.mode, source)
        retrieved = time.perf_counter()
        pieces = chosen.answerer.stream(question, retrieval) if streaming else [chosen.answerer.answer(question, retrieval)]
        for piece in pieces:
            if isinstance(piece, str):
                yield piece
                continue
            done = time.perf_counter()
            timings = {"retrieve": _ms(retrieved - began), "answer": _ms(done - retrieved), "total": _ms(done - began)}
            yield dataclasses.replace(piece, timings_ms=timings, query=query)

    def answering(self, name: str | None = None) -> Answering:
        """The answerer called `name` (default `settings.answerer`) with its rewriter."""
        name = name or self.settings.answerer
        if name not in self._built:
            if name not in self._make:
                raise InputError(f"unknown answerer {name!r}; choose one of: {', '.join(self._make)}")
            self._built[name] = self._make[name]()
        return self._built[name]

    def answerer(self, name: str | None = None) -> Answerer:
        return self.answering(name).answerer


def clean_question(text: str, what: str = "the question") -> str:
    """The question without control characters; empty, over-long or undecodable text raises InputError naming `what`
    (a lone surrogate: a command-line argument that was not UTF-8, or a JSON "\\ud800" escape)."""
    cleaned = " ".join(_CONTROL.sub(" ", text or "").split())
    if not cleaned:
        raise InputError(f"{what} is empty; type a question about the documents")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise InputError(f"{what} is too long ({len(cleaned)} characters; the limit is {MAX_QUESTION_CHARS})")
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} is not valid UTF-8 text; check the terminal's or the client's encoding") from None
    return cleaned


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
