"""Offline evaluation of the assistant: load a test set, run it, score, summarise, compare.

Usage:
    items = load_testset("corpus/testset.jsonl")
    run, summary, folder = evaluate(build_assistant(settings), items)
"""
from .bootstrap import Interval, bootstrap_ci, paired_ci
from .compare import Comparison, Gate, compare_runs, failed_gates, gate_names, parse_gates
from .evaluate import RUNS, evaluate, new_run_folder
from .runner import AGGREGATES, EvalRun, ItemResult, PassageRecord, RunConfig, Summary, run_eval, score_item, summarize
from .store import load_run, write_run
from .testset import EvalItem, load_testset

__all__ = [
    "AGGREGATES", "RUNS", "Comparison", "EvalItem", "EvalRun", "Gate", "Interval", "ItemResult", "PassageRecord",
    "RunConfig", "Summary", "bootstrap_ci", "compare_runs", "evaluate", "failed_gates", "gate_names", "load_run",
    "load_testset", "new_run_folder", "paired_ci", "parse_gates", "run_eval", "score_item", "summarize", "write_run",
]
