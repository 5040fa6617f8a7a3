"""Follow-up questions without an LLM: carry the salient names of earlier turns into the query.

"How old was she when she got out?" after "Tell me about Yeonmi Park." becomes
"How old was she when she got out? Yeonmi Park". A question with no pronoun or "that law"
that names what it is about (a capitalised name beyond its first word) is left alone.
"""
from __future__ import annotations

import re
from typing import Sequence

_PRONOUNS = {
    "she", "he", "her", "him", "his", "hers", "they", "them", "their", "theirs", "it", "its",
    "this", "that", "these", "those", "there", "then", "one", "ones", "same", "former", "latter",
}
_REFERRING = re.compile(r"\b(the|that|this) (law|act|convention|covenant|declaration|article|statement|country|document|treaty|report|section)\b", re.I)
_NAME = re.compile(r"\b[A-Z§][\w’'.-]*(?:\s+(?:of|the|and|on|for|de|[A-Z0-9§][\w’'.-]*))*")
_LEADING = {"what", "who", "whom", "when", "where", "why", "how", "which", "tell", "does", "do", "did", "is",
            "are", "was", "were", "can", "could", "should", "would", "will", "in", "and", "the", "a", "an", "i"}
_STOP = _LEADING | {"me", "about", "of", "to", "for", "on", "with", "say", "says", "said", "more", "please"}


class RuleRewriter:
    """The offline `QueryRewriter`: `RuleRewriter().rewrite("How old was she?", ["Tell me about Yeonmi Park."])`."""

    def rewrite(self, question: str, history: Sequence[str]) -> str:
        return rewrite(question, history)


def rewrite(question: str, history: Sequence[str]) -> str:
    """The question plus the content words of the last earlier turn (and the latest names before it)."""
    if not history or not needs_context(question):
        return question
    extra = [w for w in re.findall(r"[\w’']+", history[-1]) if w.lower() not in _STOP]
    if not salient_names(history[-1]):
        extra += next((salient_names(h) for h in reversed(history[:-1]) if salient_names(h)), [])
    return f"{question} {' '.join(extra)}" if extra else question


def needs_context(question: str) -> bool:
    words = re.findall(r"[\w’']+", question)
    if any(w.lower() in _PRONOUNS for w in words) or _REFERRING.search(question):
        return True
    return not salient_names(question) and len(words) < 6


def salient_names(text: str) -> list[str]:
    """`salient_names("Tell me about Yeonmi Park.") == ["Yeonmi Park"]`."""
    names = []
    for m in _NAME.finditer(text):
        words = m.group(0).rstrip(".").split()
        while words and words[0].lower() in _LEADING:
            words.pop(0)
        while words and words[-1].lower() in {"of", "the", "and", "on", "for", "de"}:
            words.pop()
        if words and not (len(words) == 1 and words[0].lower() in _STOP | _PRONOUNS):
            names.append(" ".join(words))
    return names
