import pytest

from ingest.chunking import Chunker
from ingest.loaders import load_document
from ingest.sections import split_sections
from ingest.sentences import sentence_spans
from passage.errors import ConfigError
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow
DOCS = sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".md") and not p.stem.startswith("README"))


def _chunks(embedder, path, max_tokens=200, overlap=40):
    doc = load_document(path, 1 << 22)
    sections = split_sections(doc)
    return doc, sections, Chunker(embedder, max_tokens, overlap).chunk(doc, sections)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_no_embedded_text_exceeds_what_the_model_reads(embedder, path):
    _, _, chunks = _chunks(embedder, path, max_tokens=256)
    with_specials = [n + 2 for n in embedder.count_tokens([c.embed_text for c in chunks])]
    assert max(with_specials) <= 256
    assert all(c.tokens <= 256 for c in chunks)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_chunks_are_verbatim_spans_inside_one_section(embedder, path):
    doc, sections, chunks = _chunks(embedder, path)
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        home = [s for s in sections if s.start <= c.start and c.end <= s.end]
        assert len(home) == 1 and home[0].label == c.section


def test_chunks_start_and_end_on_sentence_boundaries(embedder):
    doc, sections, chunks = _chunks(embedder, CORPUS / "leaving-north-korea.txt", max_tokens=80, overlap=20)
    bounds = {b for s in sections for span in sentence_spans(doc.text, s.start, s.end) for b in span}
    assert len(chunks) > 9
    assert all(c.start in bounds and c.end in bounds for c in chunks)


def test_neighbouring_chunks_overlap_by_whole_sentences(embedder):
    _, _, chunks = _chunks(embedder, CORPUS / "leaving-north-korea.txt", max_tokens=80, overlap=30)
    same_section = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.section == b.section]
    assert any(b.start < a.end for a, b in same_section)
    assert all(b.start > a.start for a, b in same_section)


def test_over_long_sentence_is_split_between_words(embedder, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("Start " + " ".join(f"word{i}" for i in range(400)) + " end.")
    _, _, chunks = _chunks(embedder, path, max_tokens=100, overlap=0)
    assert len(chunks) > 3
    assert all(c.tokens <= 100 for c in chunks)
    assert all(not c.text.startswith(("ord", "d1")) for c in chunks)


def test_chunk_ids_depend_on_content_only(embedder):
    _, _, first = _chunks(embedder, CORPUS / "leaving-north-korea.txt")
    _, _, again = _chunks(embedder, CORPUS / "leaving-north-korea.txt")
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)


def test_settings_beyond_the_model_are_refused(embedder):
    with pytest.raises(ConfigError, match="exceeds what all-MiniLM-L6-v2 reads"):
        Chunker(embedder, 300, 40)
