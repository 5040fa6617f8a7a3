"""A document opened for reading: sections in order with their text and chunks, from the file
while it is unchanged and stitched from the chunks when it is not; search within it."""
from __future__ import annotations

import pytest

from app.wiring import build_library
from ingest.reading import read_document
from passage.errors import NotFoundError
from passage.settings import Settings
from tests.conftest import WordsEmbedder

DOC = """# Kumquat Act

## Purpose

The act lets kumquat farmers cross the river. Farmers register first.

## Penalties

A farmer who crosses without papers pays a small fine.
"""


@pytest.fixture
def library(tmp_path):
    (tmp_path / "kumquat-act.md").write_text(DOC)
    library = build_library(Settings(data_dir=tmp_path / "data"), lambda: WordsEmbedder())
    assert not library.add([tmp_path / "kumquat-act.md"]).failed
    return library


def test_sections_in_order_with_their_text_and_chunks(library):
    doc = read_document(library, "kumquat-act")
    assert doc.from_file and doc.record.source == "kumquat-act"
    assert [s.path for s in doc.sections] == [("Kumquat Act", "Purpose"), ("Kumquat Act", "Penalties")]
    purpose, penalties = doc.sections
    assert purpose.text.strip() == "The act lets kumquat farmers cross the river. Farmers register first."
    assert DOC[purpose.start:purpose.end] == purpose.text
    assert [c.section for c in penalties.chunks] == ["Kumquat Act > Penalties"]
    assert sum(len(s.chunks) for s in doc.sections) == len(doc.record.chunk_ids)


def test_search_counts_matches_ignoring_case(library):
    doc = read_document(library, "kumquat-act")
    assert [(s.path[-1], n) for s, n in doc.matching("FARMERS")] == [("Purpose", 2)]
    assert [(s.path[-1], n) for s, n in doc.matching("farmer")] == [("Purpose", 2), ("Penalties", 1)]
    assert doc.matching("banana") == []
    assert len(doc.matching("  ")) == 2


def test_a_changed_file_is_read_from_its_chunks(library, tmp_path):
    (tmp_path / "kumquat-act.md").write_text("# Something else entirely\n")
    doc = read_document(library, "kumquat-act")
    assert not doc.from_file
    assert doc.sections[1].text.strip() == "A farmer who crosses without papers pays a small fine."


def test_an_unknown_document_names_the_indexed_ones(library):
    with pytest.raises(NotFoundError, match="no document 'nope'; indexed: kumquat-act"):
        read_document(library, "nope")
