"""Which way the LLM answerer went, over the real corpus, embedder and retriever, with the reply
written by a fake chat model: a faithful cited reply is kept, an unsupported one, a failing
backend and an empty reply each give the extractive answer with their own one-line notice, and
the prompt's no-answer sentence becomes an abstention. Each test asserts the path it expects."""
from __future__ import annotations

import pytest
from langchain_core.language_models import GenericFakeChatModel

from app.wiring import build_assistant
from passage.models import Answer
from passage.settings import Settings
from rag.llm.answerer import UNAVAILABLE, UNSUPPORTED
from rag.llm.prompts import NO_ANSWER
from tests.conftest import BrokenChatModel, EchoChatModel
from tests.llm_cases import check_pipeline

pytestmark = pytest.mark.slow

QUESTION = "How old was Yeonmi Park when she escaped North Korea?"


def ask(ingested_dir, embedder, model, streaming=False) -> tuple[list[str], Answer]:
    assistant = build_assistant(Settings(data_dir=ingested_dir, answerer="llm", k=3), embedder, chat_model=model)
    if streaming:
        *pieces, answer = assistant.stream(QUESTION)
        return pieces, answer
    return [], assistant.ask(QUESTION)


def extractive_text(ingested_dir, embedder) -> str:
    return build_assistant(Settings(data_dir=ingested_dir, k=3), embedder).ask(QUESTION, answerer="extractive").text


def test_a_faithful_cited_reply_is_the_answer(ingested_dir, embedder):
    _, answer = ask(ingested_dir, embedder, EchoChatModel())
    check_pipeline(answer, "llm")
    assert not answer.abstained and [c.n for c in answer.citations] == [1] and answer.sentences[0].supported
    assert answer.citations[0].passage.chunk.id == answer.retrieved[0].chunk.id


def test_an_unsupported_reply_gives_the_extractive_answer(ingested_dir, embedder):
    model = GenericFakeChatModel(messages=iter(["Bananas are rich in potassium and grow in warm places [1]."]))
    pieces, answer = ask(ingested_dir, embedder, model, streaming=True)
    check_pipeline(answer, "extractive")
    assert answer.notice == UNSUPPORTED and answer.text == extractive_text(ingested_dir, embedder)
    assert "".join(pieces).startswith("Bananas are rich in potassium")  # shown as it streamed, then the fallback


def test_a_failing_backend_gives_the_extractive_answer_with_the_reason(ingested_dir, embedder):
    _, answer = ask(ingested_dir, embedder, BrokenChatModel(error=ConnectionError("refused")))
    check_pipeline(answer, "extractive")
    assert answer.notice == UNAVAILABLE.format(reason="cannot reach openai")
    assert answer.text == extractive_text(ingested_dir, embedder)


def test_an_empty_reply_gives_the_extractive_answer(ingested_dir, embedder):
    _, answer = ask(ingested_dir, embedder, GenericFakeChatModel(messages=iter([" "])))
    check_pipeline(answer, "extractive")
    assert answer.notice == UNAVAILABLE.format(reason="empty reply")


def test_the_no_answer_sentence_is_an_abstention_by_the_llm(ingested_dir, embedder):
    _, answer = ask(ingested_dir, embedder, GenericFakeChatModel(messages=iter([NO_ANSWER])))
    check_pipeline(answer, "llm")
    assert answer.abstained and not answer.citations and not answer.notice
