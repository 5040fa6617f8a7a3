"""Synthetic but realistic text for the scale benchmarks: the bundled corpus's own sentences,
resampled into documents (headings, paragraphs) or into chunk-sized texts with the metadata
ingest would give them. Seeded, so every run builds the same library.

Usage: `sentences = corpus_sentences(); document(random.Random(1), sentences, "Report 7")`.
"""
from __future__ import annotations

import random
from pathlib import Path

from ingest.sentences import sentence_spans
from passage.models import Chunk, content_hash

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
_HEADINGS = ("Background", "Crossing the border", "Life in China", "Travel south", "Arrival", "Legal status",
             "Resettlement", "Family", "Work and schooling", "Testimony", "Findings", "Recommendations")


def corpus_sentences(folder: Path = CORPUS) -> list[str]:
    """Prose sentences of the bundled documents: `len(corpus_sentences()) > 1000`."""
    out = []
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".txt", ".md") or path.stem.upper().startswith("README"):
            continue
        text = path.read_text(encoding="utf-8")
        for start, end in sentence_spans(text):
            sentence = " ".join(text[start:end].split())
            if 40 <= len(sentence) <= 400 and sentence[0].isupper() and sentence[-1] in ".?!\"”":
                out.append(sentence)
    return out


def paragraph(rng: random.Random, sentences: list[str], low: int = 3, high: int = 7) -> str:
    return " ".join(rng.choice(sentences) for _ in range(rng.randint(low, high)))


def document(rng: random.Random, sentences: list[str], title: str) -> str:
    """A Markdown document: a title, 2-6 sections of 1-4 paragraphs (2-12 KB)."""
    parts = [f"# {title}", paragraph(rng, sentences)]
    for heading in rng.sample(_HEADINGS, rng.randint(2, 6)):
        parts.append(f"## {heading}")
        parts.extend(paragraph(rng, sentences) for _ in range(rng.randint(1, 4)))
    return "\n\n".join(parts) + "\n"


def write_library(folder: Path, files: int, seed: int = 7) -> int:
    """`files` documents, two in three Markdown and the rest plain text; returns their total bytes."""
    rng, sentences = random.Random(seed), corpus_sentences()
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for n in range(files):
        text = document(rng, sentences, f"Field report {n + 1}")
        if n % 3 == 2:
            text = text.replace("## ", "").replace("# ", "")
        path = folder / f"report-{n + 1:04}.{'txt' if n % 3 == 2 else 'md'}"
        path.write_text(text, encoding="utf-8")
        total += len(text.encode())
    return total


def chunk_texts(rng: random.Random, sentences: list[str], count: int) -> list[str]:
    """`count` chunk-sized texts of 60-120 words (the chunker's 128 word pieces hold about 90)."""
    out = []
    for _ in range(count):
        words: list[str] = []
        target = rng.randint(60, 120)
        while len(words) < target:
            words.extend(rng.choice(sentences).split())
        out.append(" ".join(words[:target]))
    return out


def chunk(n: int, text: str, per_document: int = 40) -> Chunk:
    """Chunk number `n` of a library whose documents hold `per_document` chunks each, with the metadata
    the chunker writes: source, title, section path, offsets, tokens and heading prefix."""
    doc = n // per_document
    title = f"Field report {doc + 1}"
    section = f"{title} > {_HEADINGS[(n // 8) % len(_HEADINGS)]}"
    start = (n % per_document) * 700
    return Chunk(id=content_hash(f"{n}\0{text}")[:32], source=f"report-{doc + 1:05}", title=title, section=section,
                 text=text, start=start, end=start + len(text), page=None, tokens=min(128, len(text) // 5), prefix=section)
