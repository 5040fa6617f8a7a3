"""A GGUF model in-process as a LangChain chat model, through llama-cpp-python.

Simplified on purpose: one model per object, loaded on first use, calls serialised by a
lock (a llama.cpp context is not thread-safe), and the timeout checked between tokens
rather than by interrupting a token in progress.
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

    _llama: Any = PrivateAttr(default=None)
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
        with self._lock:
            llama = self._load()
            deadline = time.monotonic() + self.timeout_s
            parts = llama.create_chat_completion(messages=turns, max_tokens=self.max_tokens, temperature=self.temperature,
                                                 stop=stop or [], seed=self.seed, stream=True)
            for part in parts:
                delta = part["choices"][0]["delta"].get("content") or ""
                if delta:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                    if run_manager:
                        run_manager.on_llm_new_token(delta, chunk=chunk)
                    yield chunk
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no complete reply within {self.timeout_s:g}s")

    def _load(self):
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(model_path=self.model_path, n_ctx=self.n_ctx, chat_format=self.chat_format,
                                seed=self.seed, verbose=False)
        return self._llama
