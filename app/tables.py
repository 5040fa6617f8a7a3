"""Tables the terminal shows: what an ingest did, and the indexed documents.

Names come from file names, which may hold control characters; every cell goes through
`printable`, so a name with a newline cannot forge a row.
"""
from __future__ import annotations

from pathlib import Path

from rich.table import Table

from ingest.names import printable


def report_table(report) -> Table:
    """One row per file (and per removed or skipped one), with its status."""
    table = Table("file", "document", "status", "chunks", "embedded")
    for o in report.outcomes:
        table.add_row(printable(Path(o.path).name), printable(o.source), o.status, str(o.chunks), str(o.embedded))
    for source in report.removed:
        table.add_row("", printable(source), "removed", "", "")
    for skipped in report.skipped:
        table.add_row(printable(Path(skipped.path).name), "", f"skipped: {printable(skipped.reason)}", "", "")
    return table


def records_table(records) -> Table:
    """One row per indexed document."""
    table = Table("source", "title", "type", "sections", "chunks", "added")
    table.columns[0].no_wrap = True
    for r in records:
        title = printable(r.title)
        title = title if len(title) <= 40 else title[:39] + "…"
        table.add_row(printable(r.source), title, r.kind, str(r.sections), str(len(r.chunk_ids)), r.added_at[:16])
    return table
