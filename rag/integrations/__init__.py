"""Adapters that let other frameworks use passage's retrieval (langchain.py: a LangChain retriever)."""
