"""Citation markers in one place: reading `[n]` markers, numbering cited passages, stripping and
rendering markers, and the two answer shapes every answerer builds (`cite`, `abstention`).

An answer's text carries markers as `[n]`, one number per bracket, after the sentence they
support: "She was 13. [1]". Language models also write lists ("[1, 2]"); `group_numbers` and
`LEADING_GROUPS` read those, and `render_sentence` writes them back in the one-number form.
"""
from __future__ import annotations

import re
from typing import Sequence

from passage.models import Answer, AnswerSentence, Citation, Passage

ABSTAIN_TEXT = "The documents do not answer this question. The closest passages are listed as related."
MARKER = re.compile(r"\[(\d+)\]")
GROUP = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")  # [1], [1, 2], [1,2 ,3] with the space before it
LEADING_GROUPS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_SPACED = re.compile(r"\s*" + MARKER.pattern)
_OPENING = re.compile(r"\[\d")


def markers(text: str) -> list[int]:
    """`markers("a [1] b [3][1]") == [1, 3, 1]`."""
    return [int(m) for m in MARKER.findall(text)]


def group_numbers(text: str) -> list[int]:
    """Numbers of every marker, lists included: `group_numbers("a [1, 3] b [2]") == [1, 3, 2]`."""
    return [int(n) for group in GROUP.findall(text) for n in re.split(r"\s*,\s*", group)]


def has_marker(text: str) -> bool:
    """Whether anything in `text` starts like a marker: `has_marker("see [2") is True`."""
    return bool(_OPENING.search(text))


def strip_markers(text: str) -> str:
    """`strip_markers("Yes [1]. No [2][3].") == "Yes. No."`"""
    return _SPACED.sub("", text).strip()


def strip_groups(text: str) -> str:
    """Text without its markers, lists included: `strip_groups("It is [1, 2] here") == "It is here"`."""
    return GROUP.sub("", text)


def render_markers(numbers: Sequence[int]) -> str:
    """`render_markers([1, 3]) == "[1][3]"`."""
    return "".join(f"[{n}]" for n in numbers)


def render_sentence(sentence: AnswerSentence) -> str:
    """A sentence as an answer's text shows it: `"She was 13. [1]"`; no markers, no space."""
    return sentence.text + (" " + render_markers(sentence.markers) if sentence.markers else "")


def markers_html(escaped: str) -> str:
    """HTML-escaped text with each [n] wrapped for display: `markers_html("a [1]") == 'a <span class="cite">[1]</span>'`."""
    return MARKER.sub(r'<span class="cite">[\1]</span>', escaped)


def abstention(question: str, passages: Sequence[Passage], answerer: str, notice: str = "") -> Answer:
    """The answer that says the documents do not answer, listing `passages` as related."""
    return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, citations=(), retrieved=tuple(passages),
                  answerer=answerer, notice=notice)


def cite(question: str, picked: Sequence[tuple[str, Passage]], passages: Sequence[Passage], answerer: str) -> Answer:
    """Number passages in order of first use and mark each quoted sentence with its number.

    `picked` is (sentence, passage) in answer order; a passage quoted twice gets one number.
    """
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    sentences = []
    for text, passage in picked:
        n = numbers.setdefault(passage.chunk.id, len(numbers) + 1)
        quotes.setdefault(passage.chunk.id, []).append(text)
        sentences.append(AnswerSentence(text, (n,), True))
    by_id = {p.chunk.id: p for p in passages}
    citations = tuple(Citation(n, by_id[cid], tuple(quotes[cid])) for cid, n in numbers.items())
    body = " ".join(render_sentence(s) for s in sentences)
    return Answer(question=question, text=body, abstained=False, citations=citations, retrieved=tuple(passages),
                  sentences=tuple(sentences), answerer=answerer, groundedness=1.0 if sentences else None)
