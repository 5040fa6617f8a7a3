"""passage: answers with cited sections over a small document library.

The ground every other package stands on: settings, domain errors and value objects.
`ingest/` loads, sections, chunks and embeds; `rag/` retrieves, answers, cites and
evaluates; `app/` (the CLI and the wiring) and `ui/` (the web page) are the edges.
"""
