"""Follow-ups condensed by the LLM: "How old was she?" after "Tell me about Yeonmi Park." becomes
one standalone question. A question that needs no context, a failing backend or an unusable
reply (empty, over-long) gets the rule-based rewrite instead.
"""
from __future__ import annotations

import logging
from typing import Sequence

from langchain_core.language_models import BaseChatModel

from passage.settings import Settings

from ..followup import needs_context, rewrite
from .backends import failure_reason
from .prompts import STOP, condense_messages

log = logging.getLogger(__name__)

MAX_CONDENSED_CHARS = 300


class LLMRewriter:
    """The LLM `QueryRewriter`. Usage: `LLMRewriter(make_chat_model(settings), settings).rewrite(question, history)`."""

    def __init__(self, model: BaseChatModel, settings: Settings):
        self.model = model
        self.settings = settings

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        if not (history and needs_context(question)):
            return rewrite(question, history)
        try:
            reply = self.model.invoke(condense_messages(question, history[-3:]), stop=STOP).text
        except Exception as exc:
            log.info("follow-up not condensed: %s", failure_reason(exc, self.settings))
            return rewrite(question, history)
        line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
        return line if 0 < len(line) <= MAX_CONDENSED_CHARS else rewrite(question, history)
