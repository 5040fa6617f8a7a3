"""Answers written by a language model, with every [n] checked against the numbered passages.

`build_llm_answerer(settings, embedder, extractive)` picks the backend (backends.py), and
the answerer (answerer.py) prompts (prompts.py), verifies (verify.py) and falls back to the
extractive answer. Nothing connects or loads a model until the first question.
"""
from __future__ import annotations

from passage.settings import Settings

from .answerer import LLMAnswerer
from .backends import make_chat_model


def build_llm_answerer(settings: Settings, embedder, extractive) -> LLMAnswerer:
    """The LLM answerer for `settings.llm_backend`; `extractive` is its verifier and fallback.

    `embedder` is accepted for symmetry with the other builders; similarity goes through
    `extractive.relevance`, which already embeds with it and caches vectors.
    """
    return LLMAnswerer(make_chat_model(settings), extractive, settings)


__all__ = ["LLMAnswerer", "build_llm_answerer", "make_chat_model"]
