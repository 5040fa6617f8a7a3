"""Build the object graph from settings: the store, the embedding model, the assistant and the library.

The CLI calls these, the web page wraps them in `st.cache_resource`, tests pass a temporary
data dir and the session's embedder. Nothing here runs at import time; the LLM backend is
built when the LLM answerer is first asked for, and the embedding model only when needed.
What only adding documents needs (loaders, chunking) is imported only then, so `passage ask`
starts without it.
Usage: `build_assistant(Settings()).ask("How old was Yeonmi Park?")`.
"""
from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Callable, NamedTuple

from ingest.store import Store, open_store
from passage.settings import Settings
from rag.answering import Answering
from rag.assistant import Assistant
from rag.extractive import ExtractiveAnswerer
from rag.followup import RuleRewriter
from rag.retrieval import Retriever

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ingest.embedding import Embedder
    from ingest.library import Library
    from ingest.lock import Waiting
    from ingest.pipeline import Ingestor

log = logging.getLogger(__name__)


class Services(NamedTuple):
    """The assistant and the library over one store, sharing one embedding model."""

    assistant: Assistant
    library: Library


def build_services(settings: Settings, embedder: Embedder | None = None) -> Services:
    """The assistant and a library whose changes the assistant's retriever follows at once; what a
    crash left in the uploads folder is put right first (`Library.finish_uploads`)."""
    store = open_store(settings)
    embedder = embedder or load_embedder(settings)
    assistant = build_assistant(settings, embedder, store)
    library = build_library(settings, lambda: embedder, store, on_change=assistant.retriever.refresh)
    finished = library.finish_uploads(settings.uploads_dir)
    for path in finished.deleted:
        log.warning("deleted %s: an upload cut off before it was indexed, or the file of a removed document", path)
    for path in finished.ingested:
        log.warning("indexed %s again: its upload was cut off after it replaced the file", path)
    return Services(assistant, library)


def prepare_home(settings: Settings, library: Callable[[], Library]) -> None:
    """On the default home's first use, add the bundled corpus (ingest/bundled.py); elsewhere nothing.
    `library` is called only then, so answering does not import what adding documents needs."""
    from passage.home import BUNDLED_MARKER

    if settings.is_home and not (settings.data_dir / BUNDLED_MARKER).exists():
        from ingest.bundled import add_on_first_use

        add_on_first_use(library(), settings.data_dir)


def build_assistant(settings: Settings, embedder: Embedder | None = None, store: Store | None = None,
                    chat_model: BaseChatModel | None = None) -> Assistant:
    """The assistant; its LLM answerer talks to `chat_model` (default: the backend the settings name).
    The default home gets the bundled corpus on its first use (`prepare_home`)."""
    store = store or open_store(settings)
    embedder = embedder or load_embedder(settings)
    retriever = Retriever(store, embedder, settings.cache_dir, settings.candidates, settings.rrf_k)
    extractive = ExtractiveAnswerer(embedder, settings.answer_sentences, settings.abstain_below)
    rule = RuleRewriter()

    def reader() -> Answering:
        from rag.reader import build_reader
        from rag.reader.answerer import ReaderAnswerer

        built = build_reader(embedder, retriever, settings.sentence_cache, settings.reader_pool)
        return Answering(ReaderAnswerer(built, settings.reader_threshold), rule)

    def llm() -> Answering:
        from rag.llm import LLMAnswerer, LLMRewriter, make_chat_model

        model = chat_model or make_chat_model(settings)
        rewriter = LLMRewriter(model, settings) if settings.llm_condense else rule
        return Answering(LLMAnswerer(model, extractive, settings), rewriter)

    prepare_home(settings, lambda: build_library(settings, lambda: embedder, store, on_change=retriever.refresh))
    return Assistant(settings, retriever, {"reader": reader, "extractive": lambda: Answering(extractive, rule), "llm": llm})


def build_library(settings: Settings, embedder: Callable[[], Embedder] | None = None, store: Store | None = None,
                  on_change: Callable[[], None] | None = None, on_wait: Waiting | None = None) -> Library:
    """A library over the store; `embedder` gives the model when files are added (default: load it then).
    Its writes hold the index's write lock; `on_wait` hears whom a writer waits for."""
    from ingest.library import Library
    from ingest.lock import open_lock

    store = store or open_store(settings)
    model = embedder or functools.partial(load_embedder, settings)
    return Library(store, lambda: build_ingestor(settings, model(), store), settings.max_file_bytes, on_change,
                   lock=open_lock(settings), on_wait=on_wait)


def build_ingestor(settings: Settings, embedder: Embedder | None = None, store: Store | None = None) -> Ingestor:
    from ingest.chunking import Chunker
    from ingest.pipeline import Ingestor

    embedder = embedder or load_embedder(settings)
    chunker = Chunker(embedder, settings.chunk_tokens, settings.chunk_overlap_tokens)
    return Ingestor(store or open_store(settings), embedder, chunker, settings.max_file_bytes, settings.embed_batch_size)


def load_embedder(settings: Settings | None = None) -> Embedder:
    """The embedding model in the runtime the settings choose (torch, onnx or onnx-int8)."""
    from ingest.embedders import load_embedder as load

    return load(settings)
