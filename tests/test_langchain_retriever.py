"""PassageRetriever on the real ingested corpus, alone and inside an LCEL chain whose chat model is a fake."""
from __future__ import annotations

import asyncio

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from pydantic import ValidationError

from rag.integrations.langchain import PassageRetriever

pytestmark = pytest.mark.slow

QUESTION = "How old was Yeonmi Park when she escaped?"
ESCAPE = "Leaving North Korea > Personal Accounts of Successful Escape"


def test_documents_are_the_searched_passages_with_their_place(assistant, corpus_files):
    docs = PassageRetriever(retriever=assistant.retriever, k=3).invoke(QUESTION)
    passages = assistant.retriever.search(QUESTION, 3, "hybrid").passages
    assert [(d.id, d.page_content) for d in docs] == [(p.chunk.id, p.chunk.text) for p in passages]
    assert [d.metadata["score"] for d in docs] == [round(p.score, 6) for p in passages]
    top = docs[0].metadata
    assert (top["source"], top["title"], top["section"], top["page"]) == ("leaving-north-korea", "Leaving North Korea", ESCAPE, None)
    text = (corpus_files / "leaving-north-korea.txt").read_text()
    assert text[top["start"]:top["end"]] == docs[0].page_content  # offsets point into the file itself
    assert set(top) == {"source", "title", "section", "start", "end", "page", "score"}


def test_mode_source_and_k_are_honoured_and_checked(assistant):
    docs = PassageRetriever(retriever=assistant.retriever, k=2, mode="bm25",
                            source="universal-declaration-of-human-rights").invoke("right to leave any country")
    assert len(docs) == 2 and {d.metadata["source"] for d in docs} == {"universal-declaration-of-human-rights"}
    assert docs[0].metadata["section"] == "Universal Declaration of Human Rights > Article 13."
    with pytest.raises(ValidationError, match="mode"):
        PassageRetriever(retriever=assistant.retriever, mode="fuzzy")
    with pytest.raises(ValidationError, match="k"):
        PassageRetriever(retriever=assistant.retriever, k=0)


class PromptRecorder(BaseCallbackHandler):
    """Keeps the messages each chat model was sent."""

    def __init__(self):
        self.prompts: list[str] = []

    def on_chat_model_start(self, serialized, messages, **kwargs):
        self.prompts += ["\n".join(m.text for m in batch) for batch in messages]


def numbered(docs) -> str:
    return "\n\n".join(f"[{i}] {d.metadata['section']}\n{d.page_content}" for i, d in enumerate(docs, 1))


def test_in_an_lcel_chain(assistant):
    retriever = PassageRetriever(retriever=assistant.retriever, k=3)
    prompt = ChatPromptTemplate.from_messages([
        ("system", "Answer from the numbered passages only and cite them as [n]."),
        ("human", "Passages:\n{context}\n\nQuestion: {question}"),
    ])
    chain = {"context": retriever | numbered, "question": RunnablePassthrough()} | prompt \
        | FakeListChatModel(responses=["She was 13 when she escaped. [1]"]) | StrOutputParser()
    recorder = PromptRecorder()

    assert chain.invoke(QUESTION, config={"callbacks": [recorder]}) == "She was 13 when she escaped. [1]"
    [sent] = recorder.prompts
    assert sent.startswith("Answer from the numbered passages only and cite them as [n].\nPassages:\n[1] " + ESCAPE + "\n")
    assert "at the age of 13" in sent and sent.endswith(f"\n\nQuestion: {QUESTION}")
    assert asyncio.run(retriever.ainvoke(QUESTION)) == retriever.invoke(QUESTION)
