"""A conversation as a file to keep: Markdown to read, JSON to process.

The file says what a reader needs to weigh each answer: when it was asked and answered, the
answerer's confidence and the chat's low-confidence mark, an abstention as an abstention,
the product version and the settings it was made under (never a secret: see
`app.conversations.settings_used`). The Markdown opens with the title, the export time, the
version and the first turn's settings; a later turn made under other settings says what
changed. Each question is a heading, then a line of facts, the answer with its [n] markers,
and the numbered sources with their document, section and the sentences quoted from them.
The JSON is `{"id", "title", "created_at", "updated_at", "exported_at", "version", "turns"}`,
each turn the object `passage ask --json` prints plus `asked_at`, `answered_at`,
`low_confidence`, `version` and `settings` (a turn that failed: `question` and `error` in place
of the answer's fields). Text from documents goes in verbatim: the file is data.
Usage: `to_markdown(store.get(conversation_id))`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from passage.models import Answer, Passage, section_label

from .conversations import Conversation, Turn, now, product_version
from .render import answer_json

UNTITLED = "Conversation with passage"
LOW_CONFIDENCE_NOTE = "**Low confidence**: the quoted sentence may not answer the question; check the sources."
ABSTAINED_NOTE = "**Abstained**: the documents do not answer this."


def to_json(conversation: Conversation, exported_at: datetime | None = None) -> str:
    """The conversation, its turns and what each was made under, as one JSON object."""
    return json.dumps(conversation_json(conversation, exported_at), ensure_ascii=False, indent=2) + "\n"


def conversation_json(conversation: Conversation, exported_at: datetime | None = None) -> dict:
    """What `to_json` writes, as a dict (`GET /conversations/{id}` returns it)."""
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": stamp(conversation.created_at),
        "updated_at": stamp(conversation.updated_at),
        "exported_at": stamp(exported_at or now()),
        "version": product_version(),
        "turns": [turn_json(turn) for turn in conversation.turns],
    }


def turn_json(turn: Turn) -> dict:
    body = answer_json(turn.answer) if turn.answer else {"question": turn.question, "error": turn.error}
    return {**body, "asked_at": stamp(turn.asked_at), "answered_at": stamp(turn.answered_at),
            "low_confidence": bool(turn.answer and turn.answer.low_confidence), "version": turn.version,
            "settings": dict(turn.settings)}


def to_markdown(conversation: Conversation, exported_at: datetime | None = None) -> str:
    """The conversation as Markdown: its facts and settings, then per question the facts, answer and sources."""
    blocks = [f"# {_line(conversation.title) or UNTITLED}",
              f"Exported {readable(exported_at or now())} · passage {product_version()} · "
              f"{len(conversation.turns)} question{'s' * (len(conversation.turns) != 1)}"]
    first = conversation.turns[0] if conversation.turns else None
    if first and first.settings:
        blocks.append(f"Settings (answered with passage {first.version or 'unknown'}):\n" + settings_lines(first.settings))
    previous = first
    for turn in conversation.turns:
        blocks.append(f"## {_line(turn.question)}")
        changed = _changes(previous, turn)
        if changed:
            blocks.append(changed)
        blocks.append(facts(turn))
        blocks += answer_blocks(turn.answer) if turn.answer else [f"Error: {turn.error}"]
        previous = turn
    return "\n\n".join(blocks) + "\n"


def facts(turn: Turn) -> str:
    """`Asked 2025-03-01 09:30:00 UTC · answered in 0.8 s · reader · confidence 42% · **Low confidence**: …`."""
    parts = [f"Asked {readable(turn.asked_at)}",
             f"answered in {(turn.answered_at - turn.asked_at).total_seconds():.1f} s"]
    answer = turn.answer
    if answer is None:
        return " · ".join(parts)
    parts.append(answer.answerer)
    if answer.abstained:
        parts.append(ABSTAINED_NOTE)
        return " · ".join(parts)
    if answer.confidence is not None:
        parts.append(f"confidence {answer.confidence:.0%}")
    if answer.low_confidence:
        parts.append(LOW_CONFIDENCE_NOTE)
    return " · ".join(parts)


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


def settings_lines(settings: dict) -> str:
    """`- k: 5` lines, by name: `settings_lines({"mode": "bm25", "k": 3}) == "- k: 3\\n- mode: bm25"`."""
    return "\n".join(f"- {name}: {_value(value)}" for name, value in sorted(settings.items()))


def quote(text: str) -> str:
    """A Markdown block quote: `quote("a\\nb") == "> a\\n> b"`."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def stamp(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second: `2025-03-01T09:30:00Z`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def readable(moment: datetime) -> str:
    """`2025-03-01 09:30:00 UTC`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _changes(previous: Turn | None, turn: Turn) -> str:
    """What differs from the turn before: `Settings changed: k: 3; mode: dense`."""
    if previous is None or previous is turn:
        return ""
    changed = [f"{name}: {_value(turn.settings.get(name))}" for name in sorted(set(turn.settings) | set(previous.settings))
               if turn.settings.get(name) != previous.settings.get(name)]
    if turn.version != previous.version:
        changed.insert(0, f"passage {turn.version}")
    return f"Settings changed: {'; '.join(changed)}" if changed else ""


def _value(value: object) -> str:
    return "unset" if value is None else json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)


def _line(text: str) -> str:
    return " ".join(text.split())


def _where(passage: Passage) -> str:
    """`Title > Section (source, characters 10-21)`."""
    c = passage.chunk
    return f"{section_label(c.title, c.section)} ({c.source}, characters {c.start}-{c.end})"
