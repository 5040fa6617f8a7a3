"""A Chroma server shared with others: passage's collection in a database of its own, and the
settings that place it there (tenant, database, token)."""
import uuid
from urllib.parse import urlparse

import pytest

from ingest.store import open_store
from passage.errors import StoreError
from passage.models import Chunk, DocumentRecord
from passage.settings import Settings


def _admin(url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parts = urlparse(url)
    return chromadb.AdminClient(ChromaSettings(chroma_api_impl="chromadb.api.fastapi.FastAPI", chroma_server_host=parts.hostname,
                                               chroma_server_http_port=parts.port, anonymized_telemetry=False))


def _write_one(store) -> None:
    chunk = Chunk(id="c1", source="alpha", title="Alpha", section="S", text="The river is cold.", start=0, end=18,
                  page=None, tokens=5, prefix="")
    store.upsert([chunk], [[1.0] + [0.0] * 383])
    store.put_record(DocumentRecord(source="alpha", title="Alpha", path="alpha.txt", kind="txt", content_hash="h",
                                    chunk_ids=("c1",), sections=1, added_at="2026-01-01", chunking="x"))


@pytest.mark.server
def test_an_index_in_its_own_database_is_invisible_from_the_default_one(chroma_url, tmp_path):
    import chromadb

    database, collection = f"passage_{uuid.uuid4().hex[:8]}", f"own-{uuid.uuid4().hex[:8]}"
    _admin(chroma_url).create_database(database)
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, chroma_database=database, collection=collection,
                        chroma_token="not-checked-by-this-server")
    _write_one(open_store(settings))
    assert [r.source for r in open_store(settings, create=False).records()] == ["alpha"]
    parts = urlparse(chroma_url)
    default = chromadb.HttpClient(host=parts.hostname, port=parts.port)
    assert collection not in {c.name for c in default.list_collections()}
    assert collection in {c.name for c in chromadb.HttpClient(host=parts.hostname, port=parts.port, database=database).list_collections()}


@pytest.mark.server
def test_a_database_the_server_lacks_is_one_line_naming_it(chroma_url, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, chroma_database="no_such_database")
    with pytest.raises(StoreError) as caught:
        open_store(settings)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"cannot open the Chroma store at {chroma_url}") and "no_such_database" in message


def test_the_chroma_token_is_never_shown():
    settings = Settings(chroma_token="tok-very-secret")
    assert "tok-very-secret" not in repr(settings) and "tok-very-secret" not in str(settings.model_dump())
