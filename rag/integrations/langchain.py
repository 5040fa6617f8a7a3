"""passage's retrieval as a LangChain retriever, for LCEL chains and agents.

`PassageRetriever` runs the same search the assistant does (`Retriever.search`: dense and
BM25 fused, near-duplicates dropped) and returns LangChain `Document`s whose metadata says
where each passage is: `source`, `title`, `section`, `start`, `end` (character offsets into
the document's text), `page` and `score`.
Usage: `PassageRetriever(retriever=build_assistant(Settings()).retriever, k=3).invoke("question")`.
"""
from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from passage.models import Passage
from passage.settings import Mode

from ..retrieval import Retriever


class PassageRetriever(BaseRetriever):
    """The top `k` passages for a query under `mode`, optionally from one document (`source`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int = Field(5, ge=1, le=50)
    mode: Mode = "hybrid"
    source: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [to_document(p) for p in self.retriever.search(query, self.k, self.mode, self.source).passages]


def to_document(passage: Passage) -> Document:
    """A LangChain Document holding the passage's text, with the chunk's id and location."""
    c = passage.chunk
    metadata = {"source": c.source, "title": c.title, "section": c.section, "start": c.start, "end": c.end,
                "page": c.page, "score": round(float(passage.score), 6)}
    return Document(page_content=c.text, metadata=metadata, id=c.id)
