"""Sentence spans by rule, good enough for English prose, treaties and statutes.

A sentence ends at . ! or ? (plus closing quotes) before white space and a capital, digit
or opening bracket, unless the word is a known abbreviation or an initial ("U.S.", "Pub. L.").
A line break ends a sentence too, except inside a hard-wrapped one (lowercase on both sides).
"""
from __future__ import annotations

import re

_END = re.compile(r"[.!?][\"”’')\]]*\s+(?=[\"“‘'(\[§]?[A-Z0-9§(])")
_NEWLINE = re.compile(r"\n+")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "no", "nos", "art", "arts", "pub", "stat", "sec", "secs", "vol",
    "e.g", "i.e", "etc", "vs", "inc", "co", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "para", "cf", "ch", "u.s", "u.n", "p", "pp", "op", "cit",
}


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences in text[start:end], trimmed of white space.

    `sentence_spans("One. Two.") == [(0, 4), (5, 9)]`
    """
    end = len(text) if end is None else end
    cuts = sorted(set(_sentence_cuts(text, start, end)) | set(_line_cuts(text, start, end)))
    return trimmed_spans(text, start, cuts + [end])


def trimmed_spans(text: str, start: int, cuts: list[int]) -> list[tuple[int, int]]:
    """The pieces of text from `start` to each cut in turn, trimmed, blank ones left out.

    `trimmed_spans(" a  b ", 0, [3, 6]) == [(1, 2), (4, 5)]`
    """
    spans, pos = [], start
    for cut in cuts:
        piece = text[pos:cut]
        if piece.strip():
            left = pos + len(piece) - len(piece.lstrip())
            spans.append((left, left + len(piece.strip())))
        pos = cut
    return spans


def _sentence_cuts(text: str, start: int, end: int):
    for m in _END.finditer(text, start, end):
        word = re.search(r"([\w.]+)$", text[max(start, m.start() - 12) : m.start()])
        token = word.group(1).lower() if word else ""
        if token in _ABBREVIATIONS or re.fullmatch(r"(\w\.)*\w", token) and len(token.replace(".", "")) == 1:
            continue
        yield m.start() + 1 + len(m.group(0)[1:].rstrip())


def _line_cuts(text: str, start: int, end: int):
    for m in _NEWLINE.finditer(text, start, end):
        before = text[m.start() - 1] if m.start() > start else ""
        after = text[m.end()] if m.end() < end else ""
        if len(m.group(0)) == 1 and (before.islower() or before == ",") and after.islower():
            continue
        yield m.start()
