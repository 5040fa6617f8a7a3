"""passage: answers with cited sections over a small document library.

The shared pieces live here: settings, domain errors, value objects and the CLI.
`ingest/` loads, sections, chunks and embeds; `rag/` retrieves, answers, cites and
evaluates; `ui/` presents.
"""
