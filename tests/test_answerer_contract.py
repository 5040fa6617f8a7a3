"""Every answerer through the same cases, on the real corpus and the real embedding model: the
reader, the extractive answerer, and the LLM answerer over a chat model that cites the first sentence of
passage [1] (tests/conftest.py). Embedding calls are counted by a wrapper around the real model."""
from __future__ import annotations

import pytest

from app.wiring import build_assistant
from passage.models import Retrieval
from passage.settings import Settings
from rag.citations import ABSTAIN_TEXT, markers
from tests.conftest import CountingEmbedder, EchoChatModel

pytestmark = pytest.mark.slow

ANSWERERS = ("reader", "extractive", "llm")
CASES = [
    ("How old was Yeonmi Park when she escaped?", ()),
    ("How old was she when she got out?", ("Tell me about Yeonmi Park.",)),
    ("What does Article 13 of the Universal Declaration say?", ()),
    ("What is a good recipe for kimchi?", ()),
]


@pytest.fixture(scope="module")
def counting(embedder) -> CountingEmbedder:
    return CountingEmbedder(embedder)


@pytest.fixture(scope="module")
def assistant(ingested_dir, counting):
    return build_assistant(Settings(data_dir=ingested_dir), counting, chat_model=EchoChatModel())


def _found(assistant, name: str, question: str, history) -> Retrieval:
    query = assistant.answering(name).rewriter.rewrite(question, list(history))
    return assistant.retriever.search(query, 5)


@pytest.mark.parametrize("name", ANSWERERS)
@pytest.mark.parametrize(("question", "history"), CASES)
def test_answer_is_the_last_item_of_stream_and_the_pieces_spell_it(assistant, name, question, history):
    answerer = assistant.answerer(name)
    retrieval = _found(assistant, name, question, history)
    *pieces, last = answerer.stream(question, retrieval)
    assert answerer.answer(question, retrieval) == last
    assert pieces and all(isinstance(p, str) for p in pieces)
    if last.notice.endswith("showing the extractive answer"):  # the fallback follows what was shown
        assert last.answerer == "extractive" and "".join(pieces).endswith(last.text)
    else:
        assert "".join(pieces) == last.text and last.answerer == name


@pytest.mark.parametrize("name", ANSWERERS)
@pytest.mark.parametrize(("question", "history"), CASES)
def test_markers_refer_to_citations_of_retrieved_passages(assistant, name, question, history):
    retrieval = _found(assistant, name, question, history)
    answer = assistant.answerer(name).answer(question, retrieval)
    assert set(markers(answer.text)) == {c.n for c in answer.citations}
    if name == "reader":  # it reads the whole pool and shows the k passages it ranks best
        assert len(answer.retrieved) == len(retrieval.passages)
        assert set(answer.retrieved) <= set(retrieval.pool)
        assert {c.passage.chunk.id for c in answer.citations} <= {p.chunk.id for p in answer.retrieved}
    else:
        assert {c.passage.chunk.id for c in answer.citations} <= {p.chunk.id for p in retrieval.passages}
        assert answer.retrieved == retrieval.passages
    assert answer.abstained == (answer.text == ABSTAIN_TEXT)


def test_the_cited_reply_is_kept_and_off_corpus_questions_abstain(assistant):
    """The cases above reach both paths: an LLM answer that stands, and abstentions."""
    llm = assistant.ask(CASES[0][0], answerer="llm")
    assert (llm.answerer, llm.notice, llm.groundedness) == ("llm", "", 1.0)
    assert llm.text.endswith(" [1]") and llm.citations[0].n == 1
    assert assistant.ask(CASES[3][0], answerer="extractive").abstained
    assert assistant.ask(CASES[3][0], answerer="reader").abstained


@pytest.mark.parametrize("name", ANSWERERS)
def test_no_passages_means_an_abstention(assistant, name):
    answerer = assistant.answerer(name)
    nothing = Retrieval("What is a good recipe for kimchi?", ())
    answer = answerer.answer(nothing.query, nothing)
    assert (answer.abstained, answer.text, answer.citations, answer.retrieved) == (True, ABSTAIN_TEXT, (), ())
    assert list(answerer.stream(nothing.query, nothing)) == [ABSTAIN_TEXT, answer]


@pytest.mark.parametrize("mode", ["hybrid", "bm25"])
@pytest.mark.parametrize("name", ANSWERERS)
@pytest.mark.parametrize(("question", "history"), CASES)
def test_the_query_is_embedded_once_per_question(assistant, counting, name, mode, question, history):
    counting.counts.clear()
    answer = assistant.ask(question, history, answerer=name, mode=mode)
    assert counting.counts.get(answer.query) == 1
