"""The `passage` command. Domain errors become one line on stderr and a non-zero exit here."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from passage.errors import PassageError
from passage.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ask cited questions of a small document library.")
docs_app = typer.Typer(no_args_is_help=True, help="List and remove indexed documents.")
app.add_typer(docs_app, name="docs")
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (PASSAGE_DATA_DIR).")]
ChromaUrl = Annotated[Optional[str], typer.Option("--chroma-url", help="Chroma server URL (PASSAGE_CHROMA_URL).")]


def settings_from(**flags) -> Settings:
    """Settings with the given CLI flags on top of env and .env; unset flags are left out."""
    try:
        return Settings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PassageError(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add or update.")],
    prune: Annotated[bool, typer.Option(help="Remove documents whose files are gone from the named folders.")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Add or update documents; unchanged ones are skipped."""
    from rag.assistant import build_ingestor

    ingestor = build_ingestor(settings_from(data_dir=data_dir, chroma_url=chroma_url))
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("embed", total=None)
        report = ingestor.ingest(paths, progress=lambda done, total: bar.update(task, completed=done, total=total), prune=prune)
    for outcome in report.failed:
        err.print(f"error: {outcome.path}: {outcome.error}", markup=False, highlight=False)
    out.print(_report_table(report))
    out.print(
        f"{report.count('new')} new, {report.count('unchanged')} unchanged, {report.count('replaced')} replaced, "
        f"{len(report.removed)} removed, {len(report.failed)} failed; {report.embedded} chunks embedded in {report.seconds:.1f}s",
        highlight=False,
    )
    if report.failed:
        raise typer.Exit(1)


def _report_table(report) -> Table:
    table = Table("file", "document", "status", "chunks", "embedded")
    for o in report.outcomes:
        table.add_row(Path(o.path).name, o.source, o.status, str(o.chunks), str(o.embedded))
    for source in report.removed:
        table.add_row("", source, "removed", "", "")
    return table


@docs_app.command("list")
def docs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """List indexed documents with their chunk counts."""
    from ingest.store import open_store

    records = open_store(settings_from(data_dir=data_dir, chroma_url=chroma_url)).records()
    if as_json:
        rows = [{"source": r.source, "title": r.title, "kind": r.kind, "sections": r.sections,
                 "chunks": len(r.chunk_ids), "added_at": r.added_at, "path": r.path} for r in records]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("source", "title", "type", "sections", "chunks", "added")
    table.columns[0].no_wrap = True
    for r in records:
        title = r.title if len(r.title) <= 40 else r.title[:39] + "…"
        table.add_row(r.source, title, r.kind, str(r.sections), str(len(r.chunk_ids)), r.added_at[:16])
    out.print(table)
    out.print(f"{len(records)} documents, {sum(len(r.chunk_ids) for r in records)} chunks", highlight=False)


@docs_app.command("remove")
def docs_remove(
    source: Annotated[str, typer.Argument(help="Document name as `docs list` shows it.")],
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Remove a document and its chunks from the index."""
    from rag.assistant import build_store_only_ingestor

    record = build_store_only_ingestor(settings_from(data_dir=data_dir, chroma_url=chroma_url)).remove(source)
    out.print(f"removed {record.source} ({len(record.chunk_ids)} chunks)", highlight=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (stable contract).")] = False,
    k: Annotated[Optional[int], typer.Option("--k", help="Passages to retrieve (PASSAGE_K).")] = None,
    history: Annotated[Optional[list[str]], typer.Option("--history", help="An earlier question of the conversation; repeat in order.")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Only search this document (name as `docs list` shows).")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="hybrid, dense or bm25 (PASSAGE_MODE).")] = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", help="extractive or llm (PASSAGE_ANSWERER).")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the LLM's tokens as they arrive.")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Answer a question from the indexed documents, citing sections."""
    from passage.render import answer_json, answer_text
    from rag.assistant import build_assistant

    settings = settings_from(data_dir=data_dir, chroma_url=chroma_url, k=k, mode=mode, answerer=answerer)
    assistant = build_assistant(settings)
    if stream and not as_json:
        answer = None
        for piece in assistant.stream(question, history or []):
            if isinstance(piece, str):
                print(piece, end="", flush=True)
            else:
                answer = piece
        print()
        print(answer_text(answer, with_body=False))
        return
    answer = assistant.ask(question, history or [], source=source)
    if as_json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
    else:
        print(answer_text(answer))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = app(standalone_mode=False)
    except PassageError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except click_exceptions() as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def click_exceptions():
    import click

    return (click.ClickException,)
