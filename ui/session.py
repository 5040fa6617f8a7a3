"""What every page shares: the settings, the one assistant and library per process, the sidebar options.

`ui/main.py` reads the settings once per run (`load`); pages read them with `settings()`.
The embedding model, the assistant and the library are built on first use and kept by
`st.cache_resource` (keyed by the settings, so tests that point PASSAGE_DATA_DIR elsewhere
get their own store); the open conversation and the sidebar choices live in `st.session_state`,
one per browser tab, and every conversation in the store `conversations()` opens.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import streamlit as st

from passage.errors import PassageError
from passage.models import content_hash
from passage.settings import AnswererName, Mode, Settings, load_settings
from ui.components import escape_md

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
MODES: tuple[str, ...] = get_args(Mode)
ANSWERERS: tuple[str, ...] = get_args(AnswererName)
_SETTINGS = "run_settings"


@dataclass(frozen=True)
class Options:
    """The sidebar's choices, passed to every `Assistant.ask`."""

    k: int
    mode: str
    answerer: str

    def as_kwargs(self) -> dict:
        return {"k": self.k, "mode": self.mode, "answerer": self.answerer}


def load() -> Settings:
    """`Settings()` from PASSAGE_* and .env, the same object the CLI builds; read once per run."""
    st.session_state[_SETTINGS] = load_settings()
    return st.session_state[_SETTINGS]


def settings() -> Settings:
    """The settings this run read (`load`), or read now on a page run without ui/main.py."""
    return st.session_state.get(_SETTINGS) or load()


def services():
    """The assistant and library for the current settings, built once per process."""
    current = settings()
    key = current.model_dump_json() + content_hash(current.llm_api_key.get_secret_value())
    return _services(key, current)


def assistant():
    return services().assistant


def conversations():
    """The saved chats of the current settings' data folder (app/conversations.py)."""
    return _conversations(str(settings().conversations_db))


@st.cache_resource
def _conversations(path: str):
    from app.conversations import ConversationStore

    return ConversationStore(Path(path))


def library():
    return services().library


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(key: str, _settings: Settings):
    from app.wiring import load_embedder

    return load_embedder(_settings)


@st.cache_resource(show_spinner="Opening the index…")
def _services(key: str, _settings: Settings):
    from app.wiring import build_services

    chosen = _settings.model_dump(include={"embedder", "device", "embed_batch_size", "data_dir"})
    return build_services(_settings, _embedder(repr(sorted(chosen.items())), _settings))


@st.cache_resource
def _bootstrap_lock() -> tuple[threading.Lock, set[int]]:
    return threading.Lock(), set()


def ensure_library(library) -> None:
    """Ingest the bundled corpus, with a progress bar, when the index is empty.

    Checked once per library: removing every document later does not bring the corpus back.
    """
    lock, done = _bootstrap_lock()
    if id(library) in done:
        return
    with lock:
        if id(library) in done:
            return
        if not library.records() and CORPUS.is_dir():
            bar = st.progress(0.0, text="The index is empty: adding the bundled library…")

            def progress(n: int, total: int) -> None:
                bar.progress(n / total if total else 1.0, text=f"Adding the bundled library: {n} of {total} files")

            report = library.add([CORPUS], progress=progress)
            bar.empty()
            for outcome in report.failed:
                st.warning(escape_md(f"{Path(outcome.path).name}: {outcome.error}"))
        done.add(id(library))


def sidebar_options(current: Settings) -> None:
    """Draw k, retrieval mode and answerer, defaulting to the settings; `options()` reads them."""
    with st.sidebar:
        st.subheader("Answer settings")
        st.slider("Passages to retrieve (k)", 1, 20, min(current.k, 20), key="opt_k",
                  help="How many passages retrieval hands to the answerer.")
        st.segmented_control("Retrieval", MODES, default=current.mode, key="opt_mode", required=True,
                             help="hybrid fuses dense and BM25 rankings.")
        labels = {"reader": "Reader (offline)", "extractive": "Extractive (offline, similarity only)", "llm": f"LLM ({current.llm_backend}: {current.llm_model})"}
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


SOURCE_FILTER = "source_filter"


def source_filter() -> str | None:
    """The one document the chat is limited to ("ask about this document"), or None for all of them."""
    return st.session_state.get(SOURCE_FILTER)


def ask_about(source: str | None) -> None:
    """Limit the chat to document `source` (None: every document); the same filter as `passage ask --source`."""
    st.session_state[SOURCE_FILTER] = source


def show_source_filter(library) -> None:
    """The chat's document filter as a chip that removes it when clicked; nothing when there is none."""
    source = source_filter()
    if not source:
        return
    try:
        title = library.record(source).title
    except PassageError:
        title = f"{source} (no longer in the library)"
    st.button(f"Only from: {escape_md(title)}", icon=":material/close:", key="clear_source_filter", type="tertiary",
              on_click=ask_about, args=(None,), help="Answers come only from this document; click to ask all of them again.")
