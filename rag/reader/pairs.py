"""How the reading model sees one candidate: the text pair it was trained on and reads at run time.

The first segment is the question; the second the sentence, then its heading and the sentence
before it, so truncation (which cuts the second segment from the end) drops context first.

`pair_text("She escaped at 13.", "Leaving North Korea", "Yeonmi Park is an activist.")
 == "She escaped at 13. [SEP] Leaving North Korea | Yeonmi Park is an activist."`
"""
from __future__ import annotations

MAX_TOKENS = 96  # question and pair together, in word pieces, special tokens included


def pair_text(sentence: str, heading: str, previous: str) -> str:
    """The second segment for `sentence` read under `heading` after `previous`."""
    context = " | ".join(part for part in (heading.strip(), previous.strip()) if part)
    return f"{sentence.strip()} [SEP] {context}" if context else sentence.strip()
