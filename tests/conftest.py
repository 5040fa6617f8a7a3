"""Shared fixtures: the real embedding model, and the bundled corpus ingested once per session
into a temporary data dir. Every data dir points at a temporary folder."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from passage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No PASSAGE_* variable or .env from the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PASSAGE_") and name != "PASSAGE_TEST_CHROMA_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="session")
def embedder():
    from ingest.embedding import MiniLMEmbedder

    return MiniLMEmbedder.load()


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
    from rag.assistant import build_ingestor

    data_dir = tmp_path_factory.mktemp("ingested")
    report = build_ingestor(Settings(data_dir=data_dir), embedder).ingest([corpus_files])
    assert not report.failed
    return data_dir


@pytest.fixture(scope="session")
def assistant(ingested_dir, embedder):
    """The real assistant over the ingested corpus (read-only use)."""
    from rag.assistant import build_assistant

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
    import sys

    from tests.servers import free_port, serve

    url = os.environ.get("PASSAGE_TEST_CHROMA_URL")
    if url:
        yield url
        return
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).with_name("chroma")
    url = f"http://127.0.0.1:{port}"
    command = [str(chroma), "run", "--path", str(folder / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with serve(command, f"{url}/api/v2/heartbeat", folder / "server.log"):
        yield url


@pytest.fixture(params=["embedded", "server"])
def store_settings(request, tmp_path) -> Settings:
    """Settings for an empty store, once on embedded Chroma and once on a Chroma server."""
    import uuid

    if request.param == "embedded":
        return Settings(data_dir=tmp_path / "data")
    url = request.getfixturevalue("chroma_url")
    return Settings(data_dir=tmp_path / "data", chroma_url=url, collection=f"test-{uuid.uuid4().hex[:12]}")
