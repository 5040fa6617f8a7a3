"""The `passage` command. Domain errors become one line on stderr and a non-zero exit here."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from app.runtime import configure
from app.training import train_reader_command
from passage.errors import PassageError
from passage.redact import redact
from passage.settings import load_settings

if TYPE_CHECKING:
    from rich.progress import Progress

# Errors are printed by `main` as one line; bugs get Python's plain traceback, not a rich box.
app = typer.Typer(add_completion=False, invoke_without_command=True, pretty_exceptions_enable=False,
                  help="Ask cited questions of a small document library.")
docs_app = typer.Typer(pretty_exceptions_enable=False, help="List and remove indexed documents.")
app.add_typer(docs_app, name="docs")
out = Console()
err = Console(stderr=True)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (PASSAGE_DATA_DIR).")]
ChromaUrl = Annotated[Optional[str], typer.Option("--chroma-url", help="Chroma server URL (PASSAGE_CHROMA_URL).")]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Exit 1 at once if another ingest or removal is writing to the index.")]


def _store(settings, create: bool):
    """The store; commands that only read (or remove) never create a missing index ("no index at
    DIR"), but the default home is made on first use."""
    from ingest.store import open_store

    return open_store(settings, create=create or settings.is_home)


def _library(settings, create: bool):
    """The library of `settings`; a writer that has to wait says for whom, once, on stderr."""
    from app.wiring import build_library, prepare_home

    def waiting(holder) -> None:
        err.print(f"waiting for another {holder} to finish…", highlight=False)

    library = build_library(settings, store=_store(settings, create), on_wait=waiting)
    if not create:
        prepare_home(settings, lambda: library)
    return library


@app.callback()
def root(ctx: typer.Context) -> None:
    """Bare `passage` shows the help and exits 0."""
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(0)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to add or update.")],
    prune: Annotated[bool, typer.Option(help="Remove documents whose files are gone from the named folders.")] = False,
    no_wait: NoWait = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Add or update documents; unchanged ones are skipped."""
    library = _library(load_settings(data_dir=data_dir, chroma_url=chroma_url), create=True)
    with _progress("files") as bar:
        task = bar.add_task("embed", total=None)
        report = library.add(paths, progress=lambda done, total: bar.update(task, completed=done, total=total), prune=prune,
                             wait=not no_wait)
    for outcome in report.failed:
        fail(f"{outcome.path}: {outcome.error}")
    from app.tables import report_table

    out.print(report_table(report))
    print(
        f"{report.count('new')} new, {report.count('unchanged')} unchanged, {report.count('replaced')} replaced, "
        f"{len(report.removed)} removed, {len(report.failed)} failed; {report.embedded} chunks embedded in {report.seconds:.1f}s"
    )
    if report.failed:
        raise typer.Exit(1)


def _progress(label: str) -> Progress:
    """A bar on stderr with done/total, time so far and time left; none (nor its trailing blank line)
    when stderr is a log or a pipe (imported here: `ask` never shows one)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
                    TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal)


@docs_app.command("list")
def docs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """List indexed documents with their chunk counts."""
    records = _library(load_settings(data_dir=data_dir, chroma_url=chroma_url), create=False).records()
    if as_json:
        from app.render import record_json

        print(json.dumps([record_json(r) for r in records], ensure_ascii=False, indent=2))
        return
    from app.tables import records_table

    out.print(records_table(records))
    out.print(f"{len(records)} documents, {sum(len(r.chunk_ids) for r in records)} chunks", highlight=False)


@docs_app.command("remove")
def docs_remove(
    source: Annotated[str, typer.Argument(help="Document name as `docs list` shows it.")],
    no_wait: NoWait = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Remove a document and its chunks from the index."""
    library = _library(load_settings(data_dir=data_dir, chroma_url=chroma_url), create=False)
    record = library.remove(source, wait=not no_wait)
    out.print(f"removed {record.source} ({len(record.chunk_ids)} chunks)", highlight=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (stable contract).")] = False,
    k: Annotated[Optional[int], typer.Option("--k", help="Passages to retrieve (PASSAGE_K).")] = None,
    history: Annotated[Optional[list[str]], typer.Option("--history", help="An earlier question of the conversation; repeat in order.")] = None,
    source: Annotated[Optional[str], typer.Option("--source", help="Only search this document (name as `docs list` shows).")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="hybrid, dense or bm25 (PASSAGE_MODE).")] = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", help="reader, extractive or llm (PASSAGE_ANSWERER).")] = None,
    stream: Annotated[bool, typer.Option("--stream", help="Print the LLM's tokens as they arrive.")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Answer a question from the indexed documents, citing sections."""
    from app.render import answer_json, answer_text
    from app.wiring import build_assistant

    settings = load_settings(data_dir=data_dir, chroma_url=chroma_url, k=k, mode=mode, answerer=answerer)
    assistant = build_assistant(settings, store=_store(settings, create=False))
    if stream and not as_json:
        answer = None
        for piece in assistant.stream(question, history or [], source=source):
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


@app.command("eval")
def eval_command(
    testset: Annotated[Path, typer.Argument(help="JSONL test set (this project's fields or RAGAS's).")] = Path("corpus/testset.jsonl"),
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for results.jsonl, summary.json and report.html (default: runs/<timestamp>-<mode>).")] = None,
    k: Annotated[Optional[int], typer.Option("--k", help="Passages to retrieve (PASSAGE_K).")] = None,
    mode: Annotated[Optional[str], typer.Option("--mode", help="hybrid, dense or bm25 (PASSAGE_MODE).")] = None,
    answerer: Annotated[Optional[str], typer.Option("--answerer", help="reader, extractive or llm (PASSAGE_ANSWERER).")] = None,
    compare: Annotated[Optional[Path], typer.Option("--compare", help="An earlier run folder: print paired deltas and items that flipped.")] = None,
    fail_under: Annotated[Optional[list[str]], typer.Option("--fail-under", metavar="METRIC=VALUE", help="Exit 1 when METRIC is below VALUE; repeatable.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N items.")] = None,
    split: Annotated[Optional[str], typer.Option("--split", help="dev or test: only that split's items (default: every item).")] = None,
    by_group: Annotated[bool, typer.Option("--by-group", help="Also print the figures per question type, turn and unanswerable kind (always in report.html).")] = False,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Score the assistant on a test set: retrieval, citations, answers, abstention and latency."""
    from app.eval_render import print_comparison, print_summary
    from app.wiring import build_assistant
    from rag.evaluation import compare_runs, evaluate, failed_gates, load_run, load_testset, parse_gates

    gates = parse_gates(fail_under or [])
    items = load_testset(testset, split)[:limit]
    baseline = load_run(compare) if compare else None
    settings = load_settings(data_dir=data_dir, chroma_url=chroma_url, k=k, mode=mode, answerer=answerer)
    assistant = build_assistant(settings, store=_store(settings, create=False))
    with _progress("asking") as bar:
        task = bar.add_task("eval", total=len(items))
        run, summary, folder = evaluate(assistant, items, out_dir, lambda done, total: bar.update(task, completed=done, total=total),
                                        testset=str(testset))
    print_summary(summary, folder, by_group, out)
    if baseline is not None:
        print_comparison(compare_runs(baseline, run), compare, out)
    failures = failed_gates(summary, gates)
    for failure in failures:
        fail(f"quality gate: {failure}")
    if failures:
        raise typer.Exit(1)


app.command("train-reader")(train_reader_command)


@app.command("export")
def export_command(
    conversation: Annotated[str, typer.Argument(help="The conversation's id (GET /conversations lists them; the web chat shows it in the address as ?chat=ID).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of Markdown.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Print a saved conversation as Markdown (or JSON): answers, sources, confidence, times, version and settings."""
    from app.conversations import ConversationStore
    from app.export import to_json, to_markdown

    settings = load_settings(data_dir=data_dir)
    if not settings.conversations_db.is_file():
        from app.conversations import UnknownConversation

        raise UnknownConversation(conversation)
    saved = ConversationStore(settings.conversations_db).get(conversation)
    sys.stdout.write(to_json(saved) if as_json else to_markdown(saved))


@app.command("ui")
def ui_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps the chat on this machine, 0.0.0.0 exposes it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8501,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Open the web chat; an empty index gets the bundled corpus first."""
    import os

    load_settings(data_dir=data_dir, chroma_url=chroma_url)  # a bad flag fails here, not in the browser
    env = dict(os.environ)  # the child builds its own Settings from these
    if data_dir:
        env["PASSAGE_DATA_DIR"] = str(data_dir.resolve())
    if chroma_url:
        env["PASSAGE_CHROMA_URL"] = chroma_url
    script = Path(__file__).resolve().parent.parent / "ui" / "main.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host, "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    err.print(f"passage web chat on http://{host}:{port} (Ctrl+C stops it)", highlight=False)
    sys.stderr.flush()
    os.execve(sys.executable, command, env)  # become the server, so signals (Ctrl+C, SIGTERM) reach it


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; 127.0.0.1 keeps the API on this machine, 0.0.0.0 exposes it (set PASSAGE_API_KEY).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Serve the HTTP API: /ask, /documents, OpenAI-compatible /v1/chat/completions; docs at /docs."""
    from app.api import serve

    serve(load_settings(data_dir=data_dir, chroma_url=chroma_url), host, port)


def main() -> None:
    configure()
    try:
        code = app(standalone_mode=False, prog_name="passage")
    except PassageError as exc:
        fail(str(exc))
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail("aborted")
        sys.exit(1)
    except typer.TyperException as exc:  # click's usage errors (typer vendors click and its exceptions)
        fail(usage_message(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def usage_message(exc: typer.TyperException) -> str:
    """Click's message on one line, with where to find help: "Missing argument 'QUESTION'. Try 'passage ask --help' for help."."""
    message = " ".join(exc.format_message().split()).rstrip(".") + "."
    ctx = getattr(exc, "ctx", None)
    return f"{message} Try '{ctx.command_path} --help' for help." if ctx is not None else message


def fail(message: str) -> None:
    """One unwrapped line on stderr, so the whole message stays greppable; URL credentials masked."""
    print(f"error: {redact(message)}", file=sys.stderr)
