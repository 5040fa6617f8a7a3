"""The LangChain tutorial pipeline, the reference point of the benchmarks and of retrieval quality:
RecursiveCharacterTextSplitter(1000, 200) over each file's text, the same MiniLM model,
Chroma with LangChain's wrapper, dense top-k search."""
from __future__ import annotations

from pathlib import Path

from langchain_chroma import Chroma
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter


class LangChainEmbeddings(Embeddings):
    """passage's embedder seen through LangChain's `Embeddings` interface."""

    def __init__(self, embedder):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0]


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".md") and not p.stem.startswith("README"))


def split(folder: Path) -> list[LCDocument]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs = [LCDocument(page_content=p.read_text(), metadata={"source": p.stem}) for p in corpus_files(folder)]
    return splitter.split_documents(docs)


def build(chunks: list[LCDocument], embedder, folder: Path) -> Chroma:
    return Chroma.from_documents(chunks, LangChainEmbeddings(embedder), persist_directory=str(folder),
                                 collection_name="baseline")
