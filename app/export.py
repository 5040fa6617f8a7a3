"""A conversation as a file to keep: Markdown to read, JSON to process.

A conversation is a sequence of `Turn`s: a question with its answer, or with the one-line
error it got. The Markdown gives each question as a heading, the answer with its [n]
markers, and the numbered sources with their document, section and the sentences quoted
from them; the JSON is a list of the objects `passage ask --json` prints (a turn that
failed: `{"question", "error"}`). Text from documents goes in verbatim: the file is data.
Usage: `to_markdown([Turn(question, assistant.ask(question))])`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

from passage.models import Answer, Passage, section_label

from .render import answer_json

TITLE = "Conversation with passage"


@dataclass(frozen=True)
class Turn:
    """One question and what came of it: an answer, or an error line."""

    question: str
    answer: Answer | None = None
    error: str = ""


def to_json(turns: Sequence[Turn]) -> str:
    """The conversation as a JSON list of `passage ask --json` objects."""
    rows = [answer_json(t.answer) if t.answer else {"question": t.question, "error": t.error} for t in turns]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def to_markdown(turns: Sequence[Turn]) -> str:
    """The conversation as Markdown: a heading per question, the answer, its numbered sources with quotes."""
    blocks = [f"# {TITLE}"]
    for turn in turns:
        blocks.append(f"## {' '.join(turn.question.split())}")
        blocks += answer_blocks(turn.answer) if turn.answer else [f"Error: {turn.error}"]
    return "\n\n".join(blocks) + "\n"


def answer_blocks(answer: Answer) -> list[str]:
    """The Markdown blocks of one answer, in order."""
    blocks = [answer.text]
    if answer.notice:
        blocks.append(f"Note: {answer.notice}")
    unsupported = [s.text for s in answer.sentences if s.supported is False]
    if unsupported:
        blocks.append("Not supported by the cited passages:\n" + "\n".join(f"- {text}" for text in unsupported))
    if answer.abstained:
        if answer.retrieved:
            blocks.append("Related passages:\n" + "\n".join(f"- {_where(p)}" for p in answer.retrieved))
        return blocks
    if answer.citations:
        blocks.append("Sources:")
    for citation in answer.citations:
        blocks.append(f"[{citation.n}] {_where(citation.passage)}")
        blocks += [quote(text) for text in citation.quotes or (citation.passage.chunk.text,)]
    return blocks


def quote(text: str) -> str:
    """A Markdown block quote: `quote("a\\nb") == "> a\\n> b"`."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _where(passage: Passage) -> str:
    """`Title > Section (source, characters 10-21)`."""
    c = passage.chunk
    return f"{section_label(c.title, c.section)} ({c.source}, characters {c.start}-{c.end})"
