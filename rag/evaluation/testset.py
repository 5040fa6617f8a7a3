"""Test sets: one JSON object per line, in this project's format or RAGAS's.

Field names are read in either spelling (first found wins):
    question            user_input | question
    reference answer    reference | ground_truth      (optional; RAGAS v1 `answer` is a response, not read)
    reference quotes    reference_contexts | ground_truth_contexts | contexts   (optional)
Also optional: id (default `line<n>`), source, section, history (earlier questions),
answerable (default: true when there are reference quotes or a reference answer), split
(`dev` or `test`: tune on dev, report on test), facts (short strings, any one of which a right
answer states) or facts_all (all of which it states), qtype (the question's type), and for an
unanswerable item unanswerable_kind (what makes it so: changed_entity, missing_attribute, ...).
A RAGAS multi-turn `user_input` (a list of {"type", "content"} messages) becomes the last
human message plus the earlier human messages as history. Unknown fields are ignored.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from passage.errors import InputError

QUESTION_FIELDS = ("user_input", "question")
REFERENCE_FIELDS = ("reference", "ground_truth")
CONTEXT_FIELDS = ("reference_contexts", "ground_truth_contexts", "contexts")


@dataclass(frozen=True)
class EvalItem:
    """One question with what a good answer is built from.

    Usage: `EvalItem("q1", "How old was she?", reference_contexts=("at the age of 13",))`.
    """

    id: str
    question: str
    reference: str = ""
    reference_contexts: tuple[str, ...] = ()
    source: str = ""
    section: str = ""
    answerable: bool = True
    history: tuple[str, ...] = ()
    split: str = ""
    facts: tuple[str, ...] = ()
    facts_all: tuple[str, ...] = ()
    qtype: str = ""
    kind: str = ""  # why an unanswerable item cannot be answered (the file's `unanswerable_kind`)


SPLITS = ("dev", "test")


def load_testset(path: Path | str, split: str | None = None) -> list[EvalItem]:
    """Items of a JSONL test set (only those of `split` when given and the file has splits);
    a bad line raises InputError naming the file and line."""
    if split is not None and split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")
    path = Path(path)
    if not path.is_file():
        raise InputError(f"test set not found: {path}")
    items: list[EvalItem] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
            item = parse_item(row, f"line{number}", f"{path}:{number}")
            if item.id in seen:
                raise InputError(f"{path}:{number}: duplicate id {item.id!r}")
            seen.add(item.id)
            items.append(item)
    if not items:
        raise InputError(f"{path}: the test set has no items")
    if split is None or not any(i.split for i in items):
        return items  # a file without splits (e.g. from RAGAS) is evaluated whole
    chosen = [i for i in items if i.split == split]
    if not chosen:
        raise InputError(f"{path}: no items in split {split!r}")
    return chosen


def parse_item(row: dict, default_id: str, where: str) -> EvalItem:
    """`parse_item({"question": "Why?", "ground_truth": "Because."}, "line1", "f:1").reference == "Because."`"""
    question, history = _question(_first(row, QUESTION_FIELDS), where)
    reference = _first(row, REFERENCE_FIELDS)
    contexts = _first(row, CONTEXT_FIELDS)
    if isinstance(reference, list):  # old RAGAS `ground_truths`-style lists
        reference = " ".join(str(r) for r in reference)
    if isinstance(contexts, str):
        contexts = [contexts]
    contexts = tuple(str(c).strip() for c in contexts or () if str(c).strip())
    reference = str(reference or "").strip()
    answerable = row.get("answerable")
    if answerable is None:
        answerable = bool(contexts or reference)
    extra_history = row.get("history") or ()
    if isinstance(extra_history, str):
        extra_history = [extra_history]
    return EvalItem(
        id=str(row.get("id") or default_id),
        question=question,
        reference=reference,
        reference_contexts=contexts,
        source=str(row.get("source") or ""),
        section=str(row.get("section") or ""),
        answerable=bool(answerable),
        history=tuple(str(h) for h in extra_history if str(h).strip()) + history,
        split=str(row.get("split") or ""),
        facts=_strings(row.get("facts")),
        facts_all=_strings(row.get("facts_all")),
        qtype=str(row.get("qtype") or ""),
        kind=str(row.get("unanswerable_kind") or ""),
    )


def _strings(value) -> tuple[str, ...]:
    """`_strings("13") == ("13",)`; lists keep their non-empty strings."""
    if isinstance(value, str):
        value = [value]
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def _first(row: dict, names: tuple[str, ...]):
    return next((row[n] for n in names if row.get(n) not in (None, "", [])), None)


def _question(value, where: str) -> tuple[str, tuple[str, ...]]:
    if isinstance(value, list):  # RAGAS multi-turn: human messages, the last is the question
        said = [str(m.get("content", "")) for m in value if isinstance(m, dict) and m.get("type", "human") in ("human", "user")]
        said = [s for s in said if s.strip()]
        if said:
            return said[-1].strip(), tuple(said[:-1])
        value = None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: no question; give `user_input` or `question` as text")
    return value.strip(), ()
