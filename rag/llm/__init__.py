"""Answers written by a language model, with every [n] checked against the numbered passages.

`build_llm_answerer(settings, extractive)` picks the backend (backends.py), and the answerer
(answerer.py) prompts (prompts.py), verifies (verify.py) and falls back to the extractive
answer; `LLMRewriter` (rewriter.py) condenses follow-ups. Nothing connects or loads a model
until the first question.
"""
from __future__ import annotations

from passage.settings import Settings

from .answerer import LLMAnswerer
from .backends import make_chat_model
from .rewriter import LLMRewriter


def build_llm_answerer(settings: Settings, extractive) -> LLMAnswerer:
    """The LLM answerer for `settings.llm_backend`; `extractive` is its verifier and fallback."""
    return LLMAnswerer(make_chat_model(settings), extractive, settings)


__all__ = ["LLMAnswerer", "LLMRewriter", "build_llm_answerer", "make_chat_model"]
