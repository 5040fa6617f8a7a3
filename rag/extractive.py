"""The offline answerer: quote the retrieved sentences that answer the question.

Each sentence of the retrieved passages is scored by embedding similarity to the query
plus the share of the query's content words it contains. The best sentence leads; up to
`max_sentences - 1` more follow while they score close to it and repeat nothing already
said. A chosen sentence keeps the one after it when that one continues it with a pronoun
("She was subjected to ..."). Below `abstain_below` the answer is an abstention.
"""
from __future__ import annotations

import re
from typing import Iterator, Sequence

import numpy as np

from passage.models import Answer, Passage, Retrieval
from ingest.sentences import sentence_spans

from .bm25 import stemmer, tokenize
from .citations import abstention, cite

SIMILARITY_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.3
FOLLOWER_RATIO = 0.8
REDUNDANT_SIMILARITY = 0.8
MIN_WORDS = 4
_CONTINUES = re.compile(r"(She|He|They|It|This|These|Her|His|Their|Its)\b")


class ExtractiveAnswerer:
    """Usage: `ExtractiveAnswerer(embedder).answer(question, retriever.search(query))`."""

    name = "extractive"

    def __init__(self, embedder, max_sentences: int = 3, abstain_below: float = 0.45, max_chars: int = 700):
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.abstain_below = abstain_below
        self.max_chars = max_chars
        self._stemmer = stemmer()
        self._cache: dict[str, np.ndarray] = {}

    def answer(self, question: str, retrieval: Retrieval) -> Answer:
        """Quotes from `retrieval.passages`; the query's vector is `retrieval.vector` when retrieval embedded it."""
        query, passages = retrieval.query, retrieval.passages
        candidates = [(text, p) for p in passages for text in _sentences(p.chunk.text)]
        if not candidates:
            return abstention(question, passages, self.name)
        texts = [text for text, _ in candidates]
        query_vec = self._vectors([query])[0] if retrieval.vector is None else np.asarray(retrieval.vector, dtype=np.float32)
        vectors = self._vectors(texts)
        scores = self.score(query, query_vec, texts, vectors)
        order = list(np.argsort(-scores, kind="stable"))
        if scores[order[0]] < self.abstain_below:
            return abstention(question, passages, self.name)
        chosen = self._choose(order, scores, vectors, texts)
        return cite(question, [candidates[i] for i in self._continue(chosen, candidates)], passages, self.name)

    def stream(self, question: str, retrieval: Retrieval) -> Iterator[str | Answer]:
        """The whole answer text as one piece, then the answer."""
        answer = self.answer(question, retrieval)
        yield answer.text
        yield answer

    def relevance(self, query: str, sentences: Sequence[str]) -> np.ndarray:
        """Scores of sentences for a query on the answerer's scale (0..1)."""
        vectors = self._vectors([query, *sentences])
        return self.score(query, vectors[0], list(sentences), vectors[1:])

    def score(self, query: str, query_vec: np.ndarray, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        similarity = vectors @ query_vec
        wanted = set(tokenize([query], self._stemmer)[0])
        lexical = np.array([_share(wanted, set(t)) for t in tokenize(texts, self._stemmer)])
        return SIMILARITY_WEIGHT * similarity + LEXICAL_WEIGHT * lexical

    def _choose(self, order, scores, vectors, texts) -> list[int]:
        chosen = [order[0]]
        length = len(texts[order[0]])
        for i in order[1:]:
            if len(chosen) == self.max_sentences or scores[i] < FOLLOWER_RATIO * scores[order[0]]:
                break
            redundant = any(float(vectors[i] @ vectors[j]) > REDUNDANT_SIMILARITY for j in chosen)
            if redundant or length + len(texts[i]) > self.max_chars:
                continue
            chosen.append(i)
            length += len(texts[i])
        return chosen

    def _continue(self, chosen: list[int], candidates: list[tuple[str, Passage]]) -> list[int]:
        """Add the sentence right after a chosen one when it continues it ("She was ...")."""
        out, length = [], sum(len(candidates[i][0]) for i in chosen)
        for i in chosen:
            out.append(i)
            nxt = i + 1
            if nxt in chosen or nxt in out or nxt >= len(candidates) or candidates[nxt][1] is not candidates[i][1]:
                continue
            text = candidates[nxt][0]
            if _CONTINUES.match(text) and length + len(text) <= self.max_chars and len(out) < self.max_sentences + 1:
                out.append(nxt)
                length += len(text)
        return out

    def _vectors(self, texts: list[str]) -> np.ndarray:
        if len(self._cache) > 20000:
            self._cache.clear()
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for text, vector in zip(missing, self.embedder.embed(missing)):
            self._cache[text] = np.asarray(vector, dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text) if len(text[a:b].split()) >= MIN_WORDS]


def _share(wanted: set[str], have: set[str]) -> float:
    return len(wanted & have) / len(wanted) if wanted else 0.0
