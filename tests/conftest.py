"""Shared fixtures: the real embedding model, and the bundled corpus ingested once per session
into a temporary data dir. Every data dir points at a temporary folder.

Also the fakes unit tests use in place of a language model or of the embedding model: chat
models that fail, or echo a passage, and embedders whose vectors are predictable or counted.
"""
from __future__ import annotations

import os
import re
import shutil
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from app.runtime import quiet_libraries
from passage.models import Retrieval
from passage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

quiet_libraries()  # what the CLI and the web page do first: no hub, no progress bars


def _clear_env(patch: pytest.MonkeyPatch, folder: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PASSAGE_") and name != "PASSAGE_TEST_CHROMA_URL":
            patch.delenv(name)
    # Tests share the session's torch model; the ONNX runtimes have their own tests.
    patch.setenv("PASSAGE_EMBEDDER", "torch")
    patch.setenv("XDG_DATA_HOME", str(folder / "user-data"))  # the default data folder (passage/home.py)
    patch.chdir(folder)


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory) -> Iterator[Path]:
    """Before any other fixture (an autouse session fixture comes first): no PASSAGE_* variable,
    no .env and no per-user data folder of the developer's; the working folder is a temporary one,
    so whatever a session fixture writes to a default place (`.passage`, the ONNX cache) lands there."""
    folder = tmp_path_factory.mktemp("session")
    with pytest.MonkeyPatch.context() as patch:
        _clear_env(patch, folder)
        yield folder


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """The same for each test, in its own folder; what a test changes ends with it."""
    _clear_env(monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def embedder():
    from app.wiring import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory) -> Path:
    """A copy of the bundled documents (without README and test set)."""
    folder = tmp_path_factory.mktemp("corpus")
    for path in CORPUS.iterdir():
        if path.suffix in (".txt", ".md") and not path.stem.startswith("README"):
            shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def ingested_dir(tmp_path_factory, embedder, corpus_files) -> Path:
    """A data dir holding the whole bundled corpus, ingested once; copy it before changing it."""
    from app.wiring import build_ingestor

    data_dir = tmp_path_factory.mktemp("ingested")
    report = build_ingestor(Settings(data_dir=data_dir), embedder).ingest([corpus_files])
    assert not report.failed
    return data_dir


@pytest.fixture(scope="session")
def assistant(ingested_dir, embedder):
    """The real assistant over the ingested corpus (read-only use)."""
    from app.wiring import build_assistant

    return build_assistant(Settings(data_dir=ingested_dir), embedder)


@pytest.fixture
def fresh_data_dir(tmp_path, ingested_dir) -> Path:
    """A private copy of the ingested data dir, for tests that change the index."""
    target = tmp_path / "data"
    shutil.copytree(ingested_dir, target)
    return target


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory):
    """A real Chroma server on 127.0.0.1: PASSAGE_TEST_CHROMA_URL if set, else one started here."""
    from tests.servers import chroma_command, free_port, serve

    url = os.environ.get("PASSAGE_TEST_CHROMA_URL")
    if url:
        yield url
        return
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    with serve(chroma_command(folder / "db", port), f"{url}/api/v2/heartbeat", folder / "server.log"):
        yield url


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path) -> Settings:
    """Settings for an empty store, once on embedded Chroma and once on a Chroma server."""
    import uuid

    if request.param == "embedded":
        return Settings(data_dir=tmp_path / "data")
    url = request.getfixturevalue("chroma_url")
    return Settings(data_dir=tmp_path / "data", chroma_url=url, collection=f"test-{uuid.uuid4().hex[:12]}")


# --- fakes ------------------------------------------------------------------------------------

class WordsEmbedder:
    """Bag-of-words vectors: texts that share words are similar, others orthogonal."""

    name = "words"
    max_tokens = 256

    def embed(self, texts):
        vectors = []
        for text in texts:
            v = np.zeros(1024)
            for word in re.findall(r"\w+", text.lower()):
                v[zlib.crc32(word.encode()) % 1024] += 1
            norm = np.linalg.norm(v)
            vectors.append((v / norm if norm else v).tolist())
        return vectors

    def count_tokens(self, texts):
        return [len(t.split()) for t in texts]

    def truncate(self, text, tokens):
        return " ".join(text.split()[:tokens])


class CountingEmbedder:
    """A real embedder that counts how often each text was embedded."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.name, self.max_tokens = embedder.name, embedder.max_tokens
        self.counts: dict[str, int] = {}

    def embed(self, texts):
        for text in texts:
            self.counts[text] = self.counts.get(text, 0) + 1
        return self.embedder.embed(texts)

    def count_tokens(self, texts):
        return self.embedder.count_tokens(texts)

    def truncate(self, text, tokens):
        return self.embedder.truncate(text, tokens)


class FixedRetriever:
    """Finds the same passages for any query, and remembers the queries."""

    def __init__(self, passages):
        self.passages, self.queries = tuple(passages), []

    def search(self, query, k=5, mode="hybrid", source=None):
        self.queries.append(query)
        return Retrieval(query, self.passages[:k], self.passages[:k])


class BrokenChatModel(BaseChatModel):
    """A chat model whose every call raises `error`."""

    error: Exception

    @property
    def _llm_type(self) -> str:
        return "broken"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise self.error


class EchoChatModel(BaseChatModel):
    """A chat model that answers with the first sentence of passage [1] of its prompt, cited: "It is so. [1]".

    A reply a faithful model could give, so the LLM answerer's check keeps it.
    """

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        from ingest.sentences import sentence_spans

        block = re.search(r"<passages>\n\[1\] [^\n]*\n(.*?)(?:\n\[2\] |\n</passages>)", messages[-1].text, re.S)
        text = block.group(1) if block else ""
        first = next((text[a:b] for a, b in sentence_spans(text)), "")
        reply = f"{first} [1]" if first else "The passages do not answer this question."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])
