"""The one object the CLI, the web chat and the evaluation use to ask and to manage documents.

`build_assistant(settings)` wires store, embedder, retriever and answerers; nothing is
built at import time. Usage: `build_assistant(Settings()).ask("How old was Yeonmi Park?")`.
"""
from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Callable, Sequence

from ingest.chunking import Chunker
from ingest.embedding import MiniLMEmbedder
from ingest.pipeline import Ingestor, IngestReport
from ingest.store import open_store
from passage.errors import InputError
from passage.models import Answer, DocumentRecord
from passage.settings import Settings

from .extractive import ExtractiveAnswerer
from .followup import rewrite
from .retrieval import Retriever

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class Assistant:
    def __init__(self, settings: Settings, store, embedder, retriever: Retriever, ingestor: Ingestor,
                 answerers: dict[str, object]):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.retriever = retriever
        self.ingestor = ingestor
        self.answerers = answerers

    def ask(self, question: str, history: Sequence[str] = (), *, k: int | None = None, mode: str | None = None,
            source: str | None = None, answerer: str | None = None) -> Answer:
        question = clean_question(question)
        chosen = self.answerer(answerer)
        query = _query(chosen, question, history)
        began = time.perf_counter()
        passages = self.retriever.retrieve(query, k or self.settings.k, mode or self.settings.mode, source)
        retrieved = time.perf_counter()
        answer = chosen.answer(question, query, passages)
        done = time.perf_counter()
        timings = {"retrieve": _ms(retrieved - began), "answer": _ms(done - retrieved), "total": _ms(done - began)}
        return dataclasses.replace(answer, timings_ms=timings, query=query)

    def stream(self, question: str, history: Sequence[str] = (), *, k: int | None = None, mode: str | None = None,
               source: str | None = None, answerer: str | None = None):
        """Yield text pieces as the answerer produces them, then the final Answer.

        An answerer without `stream` (the extractive one) gives its whole text as one piece.
        """
        chosen = self.answerer(answerer)
        if not hasattr(chosen, "stream"):
            answer = self.ask(question, history, k=k, mode=mode, source=source, answerer=answerer)
            yield answer.text
            yield answer
            return
        question = clean_question(question)
        query = _query(chosen, question, history)
        began = time.perf_counter()
        passages = self.retriever.retrieve(query, k or self.settings.k, mode or self.settings.mode, source)
        retrieved = time.perf_counter()
        for piece in chosen.stream(question, query, passages):
            if isinstance(piece, str):
                yield piece
                continue
            done = time.perf_counter()
            timings = {"retrieve": _ms(retrieved - began), "answer": _ms(done - retrieved), "total": _ms(done - began)}
            yield dataclasses.replace(piece, timings_ms=timings, query=query)

    def answerer(self, name: str | None = None):
        name = name or self.settings.answerer
        if name not in self.answerers:
            if name == "llm":
                from .llm import build_llm_answerer

                self.answerers["llm"] = build_llm_answerer(self.settings, self.embedder, self.answerers["extractive"])
            else:
                raise InputError(f"unknown answerer {name!r}; choose one of: extractive, llm")
        return self.answerers[name]

    def documents(self) -> list[DocumentRecord]:
        return self.store.records()

    def add(self, paths: Sequence[Path], progress: Callable[[int, int], None] | None = None, prune: bool = False) -> IngestReport:
        report = self.ingestor.ingest(paths, progress=progress, prune=prune)
        self.retriever.refresh()
        return report

    def remove(self, source: str) -> DocumentRecord:
        record = self.ingestor.remove(source)
        self.retriever.refresh()
        return record


def clean_question(text: str) -> str:
    """The question without control characters; empty or over-long questions raise InputError."""
    cleaned = " ".join(_CONTROL.sub(" ", text or "").split())
    if not cleaned:
        raise InputError("the question is empty; type a question about the documents")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is too long ({len(cleaned)} characters; the limit is {MAX_QUESTION_CHARS})")
    return cleaned


def build_assistant(settings: Settings, embedder=None) -> Assistant:
    store = open_store(settings)
    embedder = embedder or MiniLMEmbedder.load(settings.embed_batch_size)
    retriever = Retriever(store, embedder, settings.cache_dir, settings.candidates, settings.rrf_k)
    extractive = ExtractiveAnswerer(embedder, settings.answer_sentences, settings.abstain_below)
    return Assistant(settings, store, embedder, retriever, _ingestor(settings, store, embedder), {"extractive": extractive})


def build_ingestor(settings: Settings, embedder=None) -> Ingestor:
    return _ingestor(settings, open_store(settings), embedder or MiniLMEmbedder.load(settings.embed_batch_size))


def build_store_only_ingestor(settings: Settings) -> Ingestor:
    """An ingestor that can list and remove documents without loading the model."""
    return Ingestor(open_store(settings), None, None, settings.max_file_bytes)


def _ingestor(settings: Settings, store, embedder) -> Ingestor:
    chunker = Chunker(embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
    return Ingestor(store, embedder, chunker, settings.max_file_bytes, settings.embed_batch_size)


def _query(answerer, question: str, history: Sequence[str]) -> str:
    """The retrieval query: condensed by the answerer if it can (the LLM one), else by rule."""
    earlier = [clean_question(h) for h in history if h and h.strip()]
    condense = getattr(answerer, "condense", None)
    return condense(question, earlier) if condense else rewrite(question, earlier)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
