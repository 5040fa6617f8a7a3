"""One evaluation run, as both edges start it: ask every item, score, summarise, write the run.

Usage: `run, summary, folder = evaluate(assistant, load_testset("corpus/testset.jsonl"))`.
Without `out_dir` the run goes to `runs/<time>-<mode>` (a suffix when that second is taken),
so runs made from the CLI and from the web page sit side by side and compare either way.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Sequence

from .runner import EvalRun, Summary, run_eval, summarize
from .store import write_run
from .testset import EvalItem

RUNS = Path("runs")


def evaluate(assistant, items: Sequence[EvalItem], out_dir: Path | None = None,
             progress: Callable[[int, int], None] | None = None, *, testset: str = "", k: int | None = None,
             mode: str | None = None, answerer: str | None = None) -> tuple[EvalRun, Summary, Path]:
    """Run `items` through the assistant (k, mode and answerer default to its settings) and write the run."""
    run = run_eval(assistant, items, k=k, mode=mode, answerer=answerer, progress=progress, testset=testset)
    summary = summarize(run)
    folder = write_run(out_dir or new_run_folder(run.config.mode), run, summary)
    return run, summary, folder


def new_run_folder(mode: str, runs: Path = RUNS) -> Path:
    """`runs/<time>-<mode>`, with `-2`, `-3`... when that second's folder is taken."""
    base = runs / f"{datetime.now():%Y%m%d-%H%M%S}-{mode}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder
