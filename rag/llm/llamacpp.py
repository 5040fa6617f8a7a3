"""A local GGUF model as a LangChain chat model, through llama-cpp-python in a worker process.

The model runs in its own process (worker.py), started on first use, so a native crash or a
hung call costs one answer, not the serving process. Calls are serialised by a lock (one
model, one request at a time); `timeout_s` bounds the wait for the lock and the reply together.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from .worker import Worker

_ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class LlamaCppChat(BaseChatModel):
    """Usage: `LlamaCppChat(model_path="gemma.gguf").invoke("Hello")`."""

    model_path: str
    n_ctx: int = 4096
    max_tokens: int = 256
    temperature: float = 0.0
    timeout_s: float = 60.0
    chat_format: str | None = None
    seed: int = 0

    _worker: Worker | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "chat_format": self.chat_format}

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        turns = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        request = {"messages": turns, "max_tokens": self.max_tokens, "temperature": self.temperature,
                   "stop": stop or [], "seed": self.seed}
        deadline = time.monotonic() + self.timeout_s
        if not self._lock.acquire(timeout=self.timeout_s):
            raise TimeoutError(f"no reply within {self.timeout_s:g}s")
        try:
            for delta in self.worker.chat(request, deadline):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        finally:
            self._lock.release()

    @property
    def worker(self) -> Worker:
        """The process that holds the model (started by the first call; `worker.pid` is None until then)."""
        if self._worker is None:
            self._worker = Worker({"model_path": self.model_path, "n_ctx": self.n_ctx, "chat_format": self.chat_format,
                                   "seed": self.seed})
        return self._worker
