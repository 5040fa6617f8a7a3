"""The one settings object. Precedence: constructor arguments (CLI flags) > PASSAGE_* env > .env."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from passage.errors import ConfigError
from passage.home import default_data_dir
from passage.redact import redact

Mode = Literal["hybrid", "dense", "bm25"]
AnswererName = Literal["reader", "extractive", "llm"]
LLMBackend = Literal["openai", "ollama", "llamacpp"]
EmbedderName = Literal["torch", "onnx", "onnx-int8"]


class Settings(BaseSettings):
    """Usage: `Settings(data_dir=tmp_path, k=3)`; every field also reads `PASSAGE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="PASSAGE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(None, validate_default=True, description="Folder for the embedded Chroma index, uploads and caches; unset means the per-user data folder (`~/.local/share/passage` on Linux), where the bundled corpus is added on first use. Name `.passage` for an index made in the working folder.")
    chroma_url: str | None = Field(None, description="URL of a Chroma server (e.g. http://127.0.0.1:8000); unset means embedded Chroma in data_dir.")
    chroma_tenant: str = Field("default_tenant", min_length=1, description="Chroma tenant that holds the collection (server only; a distributed or hosted Chroma may give each team its own).")
    chroma_database: str = Field("default_database", min_length=1, description="Chroma database that holds the collection (server only); it must exist on the server.")
    chroma_token: SecretStr = Field(SecretStr(""), description="Token a Chroma server with authentication requires, sent as `Authorization: Bearer`; empty sends none. Never logged or shown.")
    collection: str = Field("passage", description="Name of the Chroma collection that holds the chunks.")
    max_file_mb: float = Field(20.0, gt=0, description="Largest file ingest accepts, in megabytes.")
    chunk_tokens: int = Field(128, ge=48, le=256, description="Most word pieces in one embedded chunk, heading prefix included (the model reads 256).")
    chunk_overlap_tokens: int = Field(30, ge=0, le=128, description="Most word pieces of trailing sentences repeated at the start of the next chunk.")
    embed_batch_size: int = Field(32, ge=1, le=512, description="Chunks embedded per model call.")
    embedder: EmbedderName = Field("onnx", description="How all-MiniLM-L6-v2 runs: torch (sentence-transformers), onnx (onnxruntime, exported once into the cache; no torch when answering) or onnx-int8 (the same with int8 weights).")
    device: str = Field("cpu", description="Device of the torch embedder: cpu, or cuda / cuda:N where a CUDA GPU exists; the onnx embedders run on the CPU.")
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    mode: Mode = Field("hybrid", description="Retrieval mode: hybrid (dense + BM25, fused), dense or bm25.")
    candidates: int = Field(20, ge=1, le=200, description="Candidates each retriever passes to fusion in hybrid mode.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    abstain_below: float = Field(0.325, ge=0, le=1, description="Extractive answerer: abstain when the best sentence's relevance is below this.")
    answer_sentences: int = Field(3, ge=1, le=10, description="Extractive answerer: most sentences in an answer.")
    answerer: AnswererName = Field("reader", description="reader (the trained reading model, offline), extractive (similarity only, offline) or llm (the configured LLM backend).")
    reader_pool: int = Field(20, ge=1, le=200, description="Retrieved passages whose sentences the reader scores (the k shown are re-ranked from these).")
    reader_threshold: float | None = Field(None, ge=0, le=1, description="Abstain when the reader's answerability is below this; unset uses the value calibrated with the weights (passage train-reader).")
    llm_backend: LLMBackend = Field("openai", description="LLM backend: openai (any OpenAI-compatible endpoint), ollama, or llamacpp (a GGUF file, run by llama-cpp-python in a worker process).")
    llm_base_url: str | None = Field(None, description="Base URL of the LLM endpoint, e.g. http://127.0.0.1:8080/v1.")
    llm_model: str = Field("local", description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key of the LLM endpoint; never logged or shown.")
    llm_model_path: Path | None = Field(None, description="GGUF file for the llamacpp backend.")
    llm_chat_format: str | None = Field(None, description="Chat template for the llamacpp backend (e.g. gemma, chatml); unset reads it from the GGUF file.")
    llm_condense: bool = Field(False, description="Let the LLM rewrite a follow-up question into a standalone one; off uses the rule-based rewrite.")
    llm_timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for the LLM before falling back to the extractive answer.")
    llm_max_tokens: int = Field(256, ge=16, le=4096, description="Most tokens the LLM may generate per answer.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="LLM sampling temperature.")
    llm_context_tokens: int = Field(4096, ge=512, description="Context window of the LLM; passages are trimmed to fit.")
    support_threshold: float = Field(0.52, ge=0, le=1, description="Score an answer sentence needs against its cited passages to count as supported (calibrated on the dev split: python -m rag.llm.calibrate).")
    api_key: SecretStr = Field(SecretStr(""), description="Bearer token `passage serve` requires on every route but /health and the API docs; empty means no key. Never logged or shown.")
    serve_answers: int = Field(2, ge=1, le=256, description="Answers `passage serve` works on at once (POST /ask and /v1/chat/completions); more requests wait in its queue. About the number of CPU cores.")
    serve_queue: int = Field(16, ge=0, le=10000, description="Requests that may wait for an answer place; one more gets 503 with Retry-After at once (0: every request that finds the places taken).")
    serve_queue_wait_s: float = Field(30.0, gt=0, description="Longest wait in that queue, in seconds; a request still waiting then gets 503 with Retry-After.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field([], description="Host names `passage serve` answers to, comma-separated (`*.example.org` matches its subdomains, `*` any); empty means localhost, 127.0.0.1 and ::1 while it listens on loopback, any name otherwise.")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _check_data_dir(cls, value):
        if value is None:
            return default_data_dir()
        if isinstance(value, str) and not value.strip():  # Path("") is ".", which would scatter the index in the cwd
            raise ValueError("must not be empty; unset it for the per-user data folder")
        return value

    @field_validator("chroma_url", "llm_base_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return check_url(value) if value else None

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value):
        return [h.strip().lower() for h in value.split(",") if h.strip()] if isinstance(value, str) else value

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if not re.fullmatch(r"cpu|cuda(:\d+)?", value):
            raise ValueError(f"unknown device {value!r}; choose cpu, cuda or cuda:N")
        return value

    @property
    def is_home(self) -> bool:
        """Whether the index is the default one: the per-user data folder, embedded Chroma."""
        return self.chroma_url is None and self.data_dir == default_data_dir()

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def sentence_cache(self) -> Path:
        """The reader's sentence vectors, one file per embedder runtime (their vectors differ slightly)."""
        return self.cache_dir / f"sentences-{self.embedder}.sqlite"

    @property
    def conversations_db(self) -> Path:
        """The saved chats (app/conversations.py)."""
        return self.data_dir / "conversations.sqlite"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


def check_url(url: str) -> str:
    """`url` when it is an http(s) URL with a host and a valid port; ValueError (without the URL: it may hold a password).

    `check_url("http://u:pa/ss@h/v1")` raises: the unescaped "/" ends the host part at "u:pa", whose port "pa" is no number.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port after the host is no number from 1 to 65535 (percent-encode a / ? # or @ in a "
                         "user name or password: / as %2F)")
    if not parts.hostname:
        raise ValueError("names no host: give http(s)://HOST[:PORT]/...")
    return url


def load_settings(**overrides) -> Settings:
    """Settings with `overrides` (CLI flags; None means unset) on top of env and .env.

    An invalid value raises ConfigError with one line naming the setting.
    """
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(redact(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}")) from None
