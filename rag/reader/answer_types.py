"""What kind of fact a question asks for, and whether a sentence offers one.

Rules read the question's opening words: `expected_type("How old was she?") == "number"`,
`expected_type("Which countries restrict exit?") == "country"`. A sentence offers a type when
it holds such a fact that the question does not already contain:
`offers("number", "She escaped at 13.", "How old was she?") is True`.
Simplified on purpose: names are runs of capitalised words, places are capitalised words
after a locative preposition or a known country; no tagger is needed and none is shipped.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

TYPES = ("person", "date", "number", "place", "country")

_IS = r"(?:'s|’s| is| was| are| were)"
_RULES: tuple[tuple[str, re.Pattern], ...] = (
    ("date", re.compile(r"^(when|what (year|date|month|decade|century|time)|since when|"
                        r"((in|on|by|until|since|from|at) )?(what|which) (year|date|day|month|decade|century)|"
                        rf"what{_IS} the (year|date|deadline))\b")),
    ("number", re.compile(r"^(how (many|much|old|long|far|often|large|big|high|few)|what (number|percentage|"
                          r"percent|share|proportion|fraction|amount|age|population|sum|total)|at what age|"
                          rf"what{_IS} the ([a-z]+ )?(number|percentage|percent|share|proportion|fraction|amount|"
                          r"age|population|sum|total|size|area|length|rate|cost|price|height|budget|salary|fee))\b")),
    ("country", re.compile(r"^(which|what) (other )?(countries|country|nations|nation|states)\b")),
    ("place", re.compile(r"^(where|from where|to where|in what (place|city|region|town)|(which|what) "
                         r"(city|region|town|province|desert|river|place|border))\b")),
    ("person", re.compile(r"^(who|whom|whose|which (person|people|man|woman|individual|official)|what is the name|"
                          r"what's the name|what was the name|name the)\b")),
)
_LEAD_IN = re.compile(r"^(according to [^,]+, |in the [^,]+, |so |and |but |also |then |ok,? |please,? |tell me,? |"
                      r"do you know |can you tell me |could you tell me )+")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)s?\b")
_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
_DIGITS = re.compile(r"\b\d[\d,.]*\b")
_NUMBER_WORDS = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|"
    r"thousand|thousands|million|millions|billion|dozen|dozens|half|percent)\b", re.I)
# Numbers that count nothing: list markers at the start of a line or sentence ("(6) The ...", "1. Any
# State ...", "(a)") and references to a part of a text ("article 33", "section 7813", "§ 7814").
_MARKER = re.compile(r"(?:^|(?<=\n)|(?<=[.;:!?]) )\s*(?:\((?:\d{1,3}|[a-z]{1,4})\)|\d{1,3}[.)](?=\s))", re.I)
_REFERENCE = re.compile(r"(?:§+|\b(?:articles?|sections?|paragraphs?|chapters?|title|part|clause|subsections?|rule|"
                        r"resolution|no\.)\s*)\s*\d[\d.]*(?:\s*\([\w]+\))*", re.I)
_NAME = re.compile(r"\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+\b")
_PLACE_AFTER = re.compile(r"\b(?:in|to|from|into|across|through|near|at|via)\s+(?:the\s+)?([A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)*)")


def expected_type(question: str) -> str | None:
    """The fact type a question asks for, or None for what/why/how questions of no fixed type."""
    q = _LEAD_IN.sub("", " ".join(question.lower().split()))
    for name, rule in _RULES:
        if rule.search(q):
            return name
    return None


def found(kind: str, text: str) -> set[str]:
    """Facts of `kind` in `text`, lower-cased: `found("date", "In 1948 and 2006.") == {"1948", "2006"}`."""
    if kind == "date":
        return {m.group(0).lower() for m in _YEAR.finditer(text)} | {m.group(0).lower() for m in _MONTH.finditer(text)}
    if kind == "number":
        text = _REFERENCE.sub(" ", _MARKER.sub(" ", text))
        return {m.group(0).rstrip(".,") for m in _DIGITS.finditer(text)} | {m.group(0).lower() for m in _NUMBER_WORDS.finditer(text)}
    if kind == "country":
        low = f" {' '.join(re.findall(r'[a-z]+', text.lower()))} "
        return {c for c in countries() if f" {c} " in low}
    if kind == "place":
        return {m.group(1).lower() for m in _PLACE_AFTER.finditer(text)} | found("country", text)
    if kind == "person":
        return {m.group(0).lower() for m in _NAME.finditer(text)}
    raise ValueError(f"unknown answer type {kind!r}; choose one of: {', '.join(TYPES)}")


def offers(kind: str | None, sentence: str, question: str) -> bool:
    """Whether `sentence` holds a fact of `kind` that the question does not already hold."""
    if kind is None:
        return False
    return bool(found(kind, sentence) - found(kind, question))


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Lower-cased country names and their short forms, from the data file beside this module."""
    text = resources.files(__package__).joinpath("countries.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))
