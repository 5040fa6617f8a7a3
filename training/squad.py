"""Read SQuAD-format files (and QED over Natural Questions) into plain question records.

`read_squad(path)` yields one `QA` per question with the paragraph it was asked on and its
first answer's character span; `read_qed(path)` does the same for QED's JSON lines, whose
paragraphs are tokenised ("word , word") and whose questions are lower-case search queries.
Paragraphs keep an id (`article/number`) so hard negatives can be drawn from the same article.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass(frozen=True)
class QA:
    """A question asked on `paragraph` of `title`, answered by paragraph[start:start + len(answer)]."""

    id: str
    question: str
    title: str
    paragraph_id: str
    paragraph: str
    answer: str
    start: int


def _open(path: Path):
    path = Path(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def articles(path: Path) -> list[dict]:
    """The `data` list of a SQuAD-format file (plain or gzipped)."""
    with _open(path) as f:
        return json.load(f)["data"]


def read_squad(path: Path, titles: set[str] | None = None) -> Iterator[QA]:
    """Each answerable question of a SQuAD-format file, optionally only those of `titles`.

    An answer whose offset does not point at its text is looked up in the paragraph instead;
    a question whose answer cannot be found is skipped."""
    for article in articles(path):
        title = article["title"].replace("_", " ")
        if titles is not None and article["title"] not in titles:
            continue
        for p, para in enumerate(article["paragraphs"]):
            context = para["context"]
            for qa in para["qas"]:
                if qa.get("is_impossible") or not qa.get("answers"):
                    continue
                answer = qa["answers"][0]
                text, start = answer["text"], int(answer["answer_start"])
                if context[start : start + len(text)] != text:
                    start = context.find(text)
                    if start < 0:
                        continue
                yield QA(str(qa["id"]), qa["question"].strip(), title, f"{article['title']}/{p}", context, text, start)


def read_qed(path: Path) -> Iterator[QA]:
    """QED records whose answer lies in one sentence (the clean sentence labels)."""
    with _open(path) as f:
        for line in f:
            r = json.loads(line)
            spans = r["answer_spans"]
            spans = json.loads(spans) if isinstance(spans, str) else spans
            texts = r["answer_text"]
            texts = json.loads(texts) if isinstance(texts, str) else texts
            if not spans or r.get("answer_type") != "single_sentence":
                continue
            start, end = spans[0]
            para = r["paragraph_text"]
            yield QA(str(r["example_id"]), r["question_text"].strip() + "?", r["title_text"],
                     f"qed/{r['example_id']}", para, para[start:end], int(start))
