"""The LLM answerer: number the passages, stream the model's reply, verify it, and fall back.

The model is asked whenever retrieval found passages; it may answer with the prompt's
no-answer sentence, which becomes an abstention. After generation the reply is parsed and
checked (see verify.py). Whenever the backend fails (down, timeout, refused key, context
overflow, empty or malformed reply) or nothing the LLM wrote is supported, the extractive
answer (computed only then) is returned with a one-line notice.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import re
from typing import Callable, Iterator

from langchain_core.language_models import BaseChatModel

from passage.errors import LLMError
from passage.models import Answer, Retrieval
from passage.settings import Settings

from ..citations import abstention, has_marker
from .backends import failure_reason
from .prompts import STOP, answer_messages, fit_passages, overhead_tokens
from .verify import Verifier

log = logging.getLogger(__name__)

UNAVAILABLE = "LLM unavailable ({reason}); showing the extractive answer"
UNSUPPORTED = "the LLM's answer is not supported by the passages; showing the extractive answer"
_NO_ANSWER = re.compile(r"\b(passages|documents)\s+(do not|don't|does not)\s+(answer|contain|say)", re.I)


class LLMAnswerer:
    """Usage: `LLMAnswerer(make_chat_model(settings), extractive, settings).answer(question, retrieval)`."""

    name = "llm"

    def __init__(self, model: BaseChatModel, extractive, settings: Settings):
        self.model = model
        self.extractive = extractive
        self.settings = settings
        self.verifier = Verifier(extractive.relevance, settings.support_threshold)

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        *_, final = self._run(question, retrieval, streaming=False)
        return final

    def stream(self, question: str, retrieval: Retrieval) -> Iterator[str | Answer]:
        """Text pieces as the model writes them, then the verified Answer (or the fallback)."""
        yield from self._run(question, retrieval, streaming=True)

    def _run(self, question: str, retrieval: Retrieval, streaming: bool) -> Iterator[str | Answer]:
        query, passages = retrieval.query, retrieval.passages
        if not passages:
            yield from _whole(abstention(question, passages, self.name))
            return
        fallback = functools.partial(self.extractive.answer, question, retrieval)
        listed = fit_passages(passages, self._budget(query))
        messages, shown = answer_messages(query, listed), []
        try:
            # invoke when not streaming: servers report errors (context overflow) properly only then
            pieces = (c.text for c in self.model.stream(messages, stop=STOP)) if streaming else \
                [self.model.invoke(messages, stop=STOP).text]
            for piece in pieces:
                if piece:
                    shown.append(piece)
                    yield piece
            reply = "".join(shown).strip()
            if not reply:
                raise LLMError("empty reply")
        except Exception as exc:  # any backend failure becomes the fallback, never a traceback
            yield from self._fall_back(fallback, UNAVAILABLE.format(reason=failure_reason(exc, self.settings)), shown)
            return
        if _NO_ANSWER.search(reply) and not has_marker(reply):
            yield abstention(question, passages, self.name)  # the reply already said so
            return
        answer = self.verifier.check(question, reply, [p for p, _ in listed], passages)
        if not answer.sentences:
            yield from self._fall_back(fallback, UNAVAILABLE.format(reason="malformed reply"), shown)
        elif not any(s.supported for s in answer.sentences):
            yield from self._fall_back(fallback, UNSUPPORTED, shown)
        else:
            yield answer

    def _budget(self, query: str) -> int:
        """Tokens left for passages once the prompt's fixed part and the reply are set aside."""
        return self.settings.llm_context_tokens - self.settings.llm_max_tokens - overhead_tokens(query)

    def _fall_back(self, extractive: Callable[[], Answer], notice: str, shown: list[str]) -> Iterator[str | Answer]:
        """The extractive answer with `notice`; after tokens already shown, a blank line first."""
        log.info("%s", notice)
        answer = dataclasses.replace(extractive(), notice=notice)
        yield ("\n\n" if shown else "") + answer.text
        yield answer


def _whole(answer: Answer) -> Iterator[str | Answer]:
    yield answer.text
    yield answer
