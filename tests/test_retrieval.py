import dataclasses
from pathlib import Path

import pytest

from passage.errors import EmptyIndexError, InputError
from passage.models import Chunk, Passage
from passage.settings import Settings
from app.wiring import build_assistant, build_services
from ingest.store import open_store
from rag.followup import rewrite, salient_names
from rag.retrieval import Retriever, dedupe
from tests.conftest import CORPUS


def _passage(cid: str, source: str, start: int, end: int, text: str | None = None, score: float = 1.0) -> Passage:
    chunk = Chunk(cid, source, "T", "T > S", text or f"text {cid}", start, end, None, 10, "T > S")
    return Passage(chunk, score)


def test_dedupe_drops_overlapping_spans_and_repeated_text():
    ranked = [
        _passage("a", "doc", 0, 100),
        _passage("b", "doc", 40, 140),  # 60% of b inside a
        _passage("c", "doc", 90, 200),  # 10 of 110 shared
        _passage("d", "other", 0, 100, text="text a"),  # same text as a, other document
        _passage("e", "other", 300, 400),
    ]
    assert [p.chunk.id for p in dedupe(ranked)] == ["a", "c", "e"]


def test_reciprocal_rank_fusion_scores():
    retriever = Retriever(store=None, embedder=None, cache_dir=Path("."), rrf_k=60)
    dense = [_passage("a", "d", 0, 1), _passage("b", "d", 2, 3)]
    sparse = [_passage("b", "d", 2, 3), _passage("c", "d", 4, 5)]
    fused = retriever._fuse(dense, sparse)
    assert [(p.chunk.id, p.score) for p in fused] == [
        ("b", round(1 / 62 + 1 / 61, 6)),
        ("a", round(1 / 61, 6)),
        ("c", round(1 / 62, 6)),
    ]


def test_follow_up_rewrite_carries_the_earlier_subject():
    assert rewrite("How old was she when she got out?", ["Tell me about Yeonmi Park."]) == (
        "How old was she when she got out? Yeonmi Park"
    )
    assert rewrite("Who is Jo Hye Kyung?", ["Tell me about Yeonmi Park."]) == "Who is Jo Hye Kyung?"
    assert rewrite("What about that law?", []) == "What about that law?"
    assert salient_names("What does Article 14 of the Universal Declaration say?") == [
        "Article 14 of the Universal Declaration"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_yeonmi_park_passage(assistant, mode):
    top = assistant.retriever.retrieve("How old was Yeonmi Park when she escaped North Korea?", 5, mode)
    assert top[0].chunk.section == "Leaving North Korea > Personal Accounts of Successful Escape"
    assert len(top) == 5 and len({p.chunk.id for p in top}) == 5


@pytest.mark.slow
def test_source_filter_and_unknown_source(assistant):
    top = assistant.retriever.retrieve("freedom of movement", 5, "hybrid", source="universal-declaration-of-human-rights")
    assert {p.chunk.source for p in top} == {"universal-declaration-of-human-rights"}
    with pytest.raises(InputError, match=r"^no document 'nope'; choose one of: iccpr, leaving-north-korea"):
        assistant.retriever.retrieve("x", 5, "hybrid", source="nope")


@pytest.mark.slow
def test_unknown_mode_lists_the_choices(assistant):
    with pytest.raises(InputError, match=r"^unknown retrieval mode 'fuzzy'; choose one of: hybrid, dense, bm25$"):
        assistant.retriever.retrieve("x", 5, "fuzzy")


@pytest.mark.slow
def test_empty_index_says_how_to_fill_it(tmp_path, embedder):
    with pytest.raises(EmptyIndexError, match=r"run `passage ingest /\S+/corpus` \(or your own folder\)$"):
        build_assistant(Settings(data_dir=tmp_path / "empty"), embedder).ask("Anything?")


@pytest.mark.slow
def test_bm25_index_follows_additions_and_removals(fresh_data_dir, embedder, tmp_path):
    assistant, library = build_services(Settings(data_dir=fresh_data_dir), embedder)
    question = "What colour is the zephyrine lighthouse?"
    assert all(p.chunk.source != "lighthouse" for p in assistant.retriever.retrieve(question, 5, "bm25"))
    note = tmp_path / "lighthouse.txt"
    note.write_text("The Lighthouse\n\nThe zephyrine lighthouse is painted bright green.\n")
    library.add([note])
    assert assistant.retriever.retrieve(question, 5, "bm25")[0].chunk.source == "lighthouse"
    library.remove("lighthouse")
    assert all(p.chunk.source != "lighthouse" for p in assistant.retriever.retrieve(question, 5, "bm25"))


@pytest.mark.slow
def test_passage_offsets_point_into_the_source_file(assistant):
    for p in assistant.retriever.retrieve("Which countries also restrict emigration?", 5, "hybrid"):
        path = next(CORPUS.glob(p.chunk.source + ".*"))
        assert path.read_text()[p.chunk.start : p.chunk.end] == p.chunk.text


class CountingStore:
    """The real store, counting how often the whole manifest is read."""

    def __init__(self, store):
        self.store, self.manifest_reads = store, 0

    def records(self):
        self.manifest_reads += 1
        return self.store.records()

    def __getattr__(self, name):
        return getattr(self.store, name)


@pytest.mark.slow
def test_the_manifest_is_read_once_per_index_version_and_a_tombstone_hides_its_document_at_once(fresh_data_dir, embedder):
    settings = Settings(data_dir=fresh_data_dir)
    store = CountingStore(open_store(settings))
    retriever = Retriever(store, embedder, settings.cache_dir)
    question = "Which countries also restrict emigration?"
    assert "leaving-north-korea" in {p.chunk.source for p in retriever.search(question, 5).pool}
    for _ in range(3):
        retriever.search(question, 5)
    assert store.manifest_reads == 1
    other = open_store(settings)  # another writer starts removing the article
    other.put_record(dataclasses.replace(other.record("leaving-north-korea"), removing=True))
    pool = retriever.search(question, 5).pool
    assert store.manifest_reads == 2
    assert pool and "leaving-north-korea" not in {p.chunk.source for p in pool}
