"""The documents library on a real store: records, removal without the model, and the full
text of a section read back from the document (or stitched from chunks when it changed)."""
from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from app.wiring import build_library
from ingest.library import stitch
from ingest.store import open_client, open_store
from passage.errors import NotFoundError
from passage.models import SectionSpan
from passage.settings import Settings

pytestmark = pytest.mark.slow

ALPHA = ("# Alpha\n\nThe border river is cold in winter.\n\n## Crossing\n\nPeople cross the river on foot when it freezes.\n"
         "Guards   watch the ice\nfrom towers.\n\n## Return\n\nFew come back.\n")


def _no_model():
    raise AssertionError("the embedding model was loaded")


@pytest.fixture
def alpha(tmp_path, embedder):
    """A library holding one small Markdown document, and that document's path."""
    path = tmp_path / "docs" / "alpha.md"
    path.parent.mkdir()
    path.write_text(ALPHA)
    library = build_library(Settings(data_dir=tmp_path / "data"), lambda: embedder)
    assert not library.add([path]).failed
    return library, path


def test_records_keep_section_spans(alpha):
    library, _ = alpha
    record = library.record("alpha")
    assert record.spans == (
        SectionSpan("Alpha", 9, 44),
        SectionSpan("Alpha > Crossing", 59, 142),
        SectionSpan("Alpha > Return", 155, 169),
    )
    assert library.records() == [record]


def test_section_text_is_the_documents_own_text(alpha):
    library, _ = alpha
    assert library.section_text("alpha", "Alpha > Crossing") == (
        "People cross the river on foot when it freezes.\nGuards   watch the ice\nfrom towers.")
    assert library.section_text("alpha", "Alpha") == "The border river is cold in winter."


def test_a_changed_file_falls_back_to_the_stored_chunks(alpha):
    library, path = alpha
    path.write_text(ALPHA.replace("Few come back.", "Many come back."))
    assert library.section_text("alpha", "Alpha > Return") == "Few come back."
    path.unlink()
    chunks = [c for c in library.store.chunks() if c.section == "Alpha > Crossing"]
    assert library.section_text("alpha", "Alpha > Crossing") == stitch(chunks) == chunks[0].text


def test_unknown_documents_and_sections_are_not_found(alpha):
    library, _ = alpha
    with pytest.raises(NotFoundError, match=r"^no document 'nope'; indexed: alpha$"):
        library.record("nope")
    with pytest.raises(NotFoundError, match=r"^'alpha' has no section 'Alpha > Nowhere'$"):
        library.section_text("alpha", "Alpha > Nowhere")


def test_a_record_written_before_spans_were_kept_still_loads(alpha, tmp_path):
    library, _ = alpha
    settings = Settings(data_dir=tmp_path / "data")
    records = open_client(settings).get_collection(settings.collection + "-documents", embedding_function=None)
    got = records.get(ids=["alpha"], include=["documents"])
    body = json.loads(got["documents"][0])
    records.update(ids=["alpha"], embeddings=[[1.0]], documents=[json.dumps({k: v for k, v in body.items() if k != "spans"})])
    old = open_store(settings).record("alpha")
    assert old.spans == () and old == dataclasses.replace(library.record("alpha"), spans=())
    assert library.section_text("alpha", "Alpha > Return") == "Few come back."  # sections found again in the file


def test_listing_and_removing_never_load_the_model(fresh_data_dir, tmp_path):
    data = tmp_path / "copy"
    shutil.copytree(fresh_data_dir, data)
    library = build_library(Settings(data_dir=data), _no_model)
    before = {r.source: len(r.chunk_ids) for r in library.records()}
    removed = library.remove("iccpr")
    assert len(removed.chunk_ids) == before["iccpr"]
    assert [r.source for r in library.records()] == sorted(set(before) - {"iccpr"})
    assert len(library.store.chunk_ids()) == sum(before.values()) - before["iccpr"]


def test_stitching_keeps_overlaps_once_and_guesses_gaps():
    from passage.models import Chunk

    def chunk(start: int, text: str) -> Chunk:
        return Chunk(f"c{start}", "d", "D", "D > S", text, start, start + len(text), None, 1, "")

    assert stitch([chunk(3, "cd ef"), chunk(0, "ab cd")]) == "ab cd ef"
    assert stitch([chunk(0, "One."), chunk(5, "Two.")]) == "One. Two."
    assert stitch([chunk(0, "One."), chunk(8, "Two.")]) == "One.\n\nTwo."
