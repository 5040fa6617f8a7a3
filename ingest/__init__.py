"""Ingestion: load files, split them into sections and chunks, embed them into Chroma."""
