"""Check an LLM's reply against the passages it was given.

The reply is split into sentences, each with the [n] markers it carries. Markers at the
start of a sentence belong to the one before on the same line ("It is. [1] Next." cites [1]
for "It is."); at the start of a line they belong to what follows, as in a list.
A marker that names no listed passage is repaired to the listed passage that best supports
the sentence, or dropped when none does. A sentence is supported when its best score against
the sentences of the passages it cites reaches the threshold; the score is the extractive
answerer's relevance (0.7 * cosine + 0.3 * word overlap) with the answer sentence in the
place of the query. A sentence that cites nothing is unsupported. Lines that only echo
the prompt's `[n] Title > Section` headings are not claims and are left out.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ingest.sentences import sentence_spans
from passage.errors import ConfigError
from passage.models import Answer, AnswerSentence, Citation, Passage

from ..citations import LEADING_GROUPS, group_numbers, render_markers, render_sentence, strip_groups

_WORD = re.compile(r"\w")

Relevance = Callable[[str, Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Claim:
    """One sentence of a reply without its markers, the markers it carried, and what follows it."""

    text: str
    markers: tuple[int, ...]
    newline_after: bool = False


def parse(reply: str) -> list[Claim]:
    """`parse("She was 13. [1] They left [2][3].")` -> [Claim("She was 13.", (1,)), Claim("They left.", (2, 3))]."""
    spans = sentence_spans(reply)
    claims: list[Claim] = []
    for i, (a, b) in enumerate(spans):
        piece = reply[a:b]
        lead = LEADING_GROUPS.match(piece)
        if lead and claims and not claims[-1].newline_after:
            prev = claims[-1]
            claims[-1] = Claim(prev.text, prev.markers + tuple(group_numbers(lead.group(0))), prev.newline_after)
            piece = piece[lead.end():]
        numbers = tuple(group_numbers(piece))
        text = _tidy(strip_groups(piece))
        gap = reply[b: spans[i + 1][0]] if i + 1 < len(spans) else ""
        if _WORD.search(text):
            claims.append(Claim(text, numbers, "\n" in gap))
        elif claims:
            last = claims[-1]
            claims[-1] = Claim(last.text, last.markers + numbers, last.newline_after or "\n" in gap)
    return claims


class Verifier:
    """Usage: `Verifier(extractive.relevance, 0.6).check(question, reply, listed, retrieved)`."""

    def __init__(self, relevance: Relevance, threshold: float):
        if not 0 <= threshold <= 1:
            raise ConfigError(f"support threshold must be within 0..1, not {threshold}")
        self.relevance = relevance
        self.threshold = threshold

    def check(self, question: str, reply: str, listed: Sequence[Passage], retrieved: Sequence[Passage]) -> Answer:
        """An Answer whose markers all name listed passages ([n] is listed[n-1]), each sentence flagged."""
        rows, quotes, notes = [], {}, []
        labels = {_key(p.chunk.label) for p in listed}
        for claim in parse(reply):
            if _echoes_a_heading(claim.text, labels):
                continue
            support = functools.cache(lambda n, text=claim.text: self.support(text, listed[n - 1]))
            valid = [n for n in dict.fromkeys(claim.markers) if 1 <= n <= len(listed)]
            wrong = [n for n in dict.fromkeys(claim.markers) if n not in valid]
            if wrong:
                best = max(range(1, len(listed) + 1), key=lambda n: support(n)[0], default=None)
                if best is not None and support(best)[0] >= self.threshold:
                    notes.append(f"{render_markers(wrong)} replaced by [{best}]")
                    valid = list(dict.fromkeys(valid + [best]))
                else:
                    notes.append(f"{render_markers(wrong)} removed")
            supported = any(support(n)[0] >= self.threshold for n in valid)
            for n in valid:
                bucket = quotes.setdefault(n, [])
                score, quote = support(n)
                if supported and score >= self.threshold and quote not in bucket:
                    bucket.append(quote)
            rows.append((AnswerSentence(claim.text, tuple(valid), supported), claim.newline_after))
        text = "".join(render_sentence(s) + ("\n" if newline else " ") for s, newline in rows).strip()
        sentences = tuple(s for s, _ in rows)
        cited = dict.fromkeys(n for s in sentences for n in s.markers)
        notice = f"citations not among the {len(listed)} passages: {'; '.join(notes)}" if notes else ""
        return Answer(question=question, text=text, abstained=False,
                      citations=tuple(Citation(n, listed[n - 1], tuple(quotes[n])) for n in cited),
                      retrieved=tuple(retrieved), sentences=sentences, answerer="llm",
                      groundedness=groundedness(sentences), notice=notice)

    def support(self, sentence: str, passage: Passage) -> tuple[float, str]:
        """Best score of `sentence` against the passage's sentences, with that sentence."""
        units = _units(passage.chunk.text)
        scores = self.relevance(sentence, units)
        best = int(np.argmax(scores))
        return float(scores[best]), units[best]


def groundedness(sentences: Sequence[AnswerSentence]) -> float | None:
    """Share of sentences supported: 2 of 3 -> 0.6667; None for no sentences."""
    return round(sum(bool(s.supported) for s in sentences) / len(sentences), 4) if sentences else None


def _echoes_a_heading(text: str, labels: set[str]) -> bool:
    """Whether a line repeats the prompt's `Title > Section` form rather than saying anything.

    `_echoes_a_heading("Leaving North Korea > Escape", set()) is True`; a sentence is not.
    """
    return _key(text) in labels or (" > " in text and not text.rstrip().endswith((".", "!", "?", '"', "”")))


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _units(text: str) -> list[str]:
    """The passage's sentences (the whole text if it has none)."""
    return [text[a:b] for a, b in sentence_spans(text)] or [text]


def _tidy(text: str) -> str:
    """Marker-free sentence text: `_tidy("It is 5 .") == "It is 5."`."""
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()
