"""What every page shares: the settings, the one assistant per process, the sidebar options.

The embedding model and the assistant are built on first use and kept by `st.cache_resource`
(keyed by the settings, so tests that point PASSAGE_DATA_DIR elsewhere get their own store);
the conversation and the sidebar choices live in `st.session_state`, one per browser tab.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import streamlit as st

from passage.models import content_hash
from passage.settings import AnswererName, Mode, Settings, load_settings
from ui.components import escape_md

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MODES: tuple[str, ...] = get_args(Mode)
ANSWERERS: tuple[str, ...] = get_args(AnswererName)


@dataclass(frozen=True)
class Options:
    """The sidebar's choices, passed to every `Assistant.ask`."""

    k: int
    mode: str
    answerer: str

    def as_kwargs(self) -> dict:
        return {"k": self.k, "mode": self.mode, "answerer": self.answerer}


def settings() -> Settings:
    """`Settings()` from PASSAGE_* and .env, the same object the CLI builds."""
    return load_settings()


def assistant():
    """The assistant for the current settings, built once per process."""
    current = settings()
    key = current.model_dump_json() + content_hash(current.llm_api_key.get_secret_value())
    return _assistant(key, current)


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(batch_size: int):
    from ingest.embedding import MiniLMEmbedder

    return MiniLMEmbedder.load(batch_size)


@st.cache_resource(show_spinner="Opening the index…")
def _assistant(key: str, _settings: Settings):
    from rag.assistant import build_assistant

    return build_assistant(_settings, _embedder(_settings.embed_batch_size))


@st.cache_resource
def _bootstrap_lock() -> tuple[threading.Lock, set[int]]:
    return threading.Lock(), set()


def ensure_library(assistant) -> None:
    """Ingest the bundled corpus, with a progress bar, when the index is empty.

    Checked once per assistant: removing every document later does not bring the corpus back.
    """
    lock, done = _bootstrap_lock()
    if id(assistant) in done:
        return
    with lock:
        if id(assistant) in done:
            return
        if not assistant.documents() and CORPUS.is_dir():
            bar = st.progress(0.0, text="The index is empty: adding the bundled library…")

            def progress(n: int, total: int) -> None:
                bar.progress(n / total if total else 1.0, text=f"Embedding the bundled library: {n} of {total} chunks")

            report = assistant.add([CORPUS], progress=progress)
            bar.empty()
            for outcome in report.failed:
                st.warning(escape_md(f"{Path(outcome.path).name}: {outcome.error}"))
        done.add(id(assistant))


def sidebar_options(current: Settings) -> None:
    """Draw k, retrieval mode and answerer, defaulting to the settings; `options()` reads them."""
    with st.sidebar:
        st.subheader("Answer settings")
        st.slider("Passages to retrieve (k)", 1, 20, min(current.k, 20), key="opt_k",
                  help="How many passages retrieval hands to the answerer.")
        st.segmented_control("Retrieval", MODES, default=current.mode, key="opt_mode", required=True,
                             help="hybrid fuses dense and BM25 rankings.")
        labels = {"extractive": "Extractive (offline)", "llm": f"LLM ({current.llm_backend}: {current.llm_model})"}
        st.radio("Answerer", ANSWERERS, index=ANSWERERS.index(current.answerer), key="opt_answerer",
                 format_func=labels.get)


def options() -> Options:
    """The choices the sidebar stored this run (defaults if it has not drawn yet)."""
    current = settings()
    return Options(
        int(st.session_state.get("opt_k", current.k)),
        str(st.session_state.get("opt_mode") or current.mode),
        str(st.session_state.get("opt_answerer", current.answerer)),
    )
