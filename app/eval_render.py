"""An evaluation run as the terminal shows it: the summary table and a comparison with an earlier run."""
from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table


def figure(value: float | None, signed: bool = False, ms: bool = False) -> str:
    """A figure as the tables print it: `figure(0.5) == "0.500"`, `figure(None) == "–"`, `figure(12.3, ms=True) == "12"`."""
    if value is None:
        return "–"
    digits = 0 if ms or abs(value) >= 100 else 3
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def eval_table(summary) -> Table:
    """Every aggregate of a run with its interval."""
    c = summary.config
    table = Table("group", "metric", "value", "95% CI", "n", title=f"eval: mode {c.mode}, k={c.k}, {c.answerer}, {summary.items} items")
    for s in summary.metrics:
        ms = s.name.endswith("_ms")
        table.add_row(s.group, s.label + (" ↓" if not s.higher_is_better else ""), figure(s.value, ms=ms), _range(s.low, s.high, ms=ms), str(s.n))
    return table


def print_summary(summary, folder: Path, by_group: bool, out: Console) -> None:
    """The summary table (and the tables by group when asked), then where the run was written."""
    out.print(eval_table(summary))
    for table in groups_tables(summary) if by_group else []:
        out.print(table)
    print(f"{summary.passed}/{summary.items} passed; wrote {folder}/results.jsonl, summary.json, report.html")


def groups_tables(summary) -> list[Table]:
    """The run's figures per question type, turn, unanswerable kind and document: one table per dimension."""
    tables: dict[str, Table] = {}
    for g in summary.groups:
        if g.dimension not in tables:
            tables[g.dimension] = _compact(Table(
                g.dimension, "n", "pass", "hit@k", "fact", "quoted", "f.abst", "recall", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True,
                title=f"by {g.dimension} (f.abst: false abstentions; recall: abstention recall)"))
        tables[g.dimension].add_row(g.value, str(g.items), figure(g.pass_rate), figure(g.hit_at_k), figure(g.fact_stated),
                                    figure(g.evidence_quoted), figure(g.false_abstentions), figure(g.abstention_recall))
    return list(tables.values())


def _compact(table: Table, name_width: int = 26) -> Table:
    """Figures never wrap or shrink and a long group name is cut with an ellipsis, so the table fits 80 columns."""
    for column in table.columns:
        column.no_wrap = True
        column.min_width = max(3, len(str(column.header)))
    for column in table.columns[2:]:
        column.min_width = max(5, len(str(column.header)))
    table.columns[0].max_width = name_width
    table.columns[0].overflow = "ellipsis"
    return table


def _range(low: float | None, high: float | None, signed: bool = False, ms: bool = False) -> str:
    return "–" if low is None or high is None else f"{figure(low, signed, ms)} – {figure(high, signed, ms)}"


def print_comparison(comparison, baseline: Path, out: Console) -> None:
    """The paired deltas of a run against `baseline`, and the items that flipped."""
    print(f"compared with {baseline} (before) on {comparison.common} shared items")
    table = _compact(Table("metric", "before", "after", "delta", "95% CI (paired)", "verdict", box=box.SIMPLE_HEAD),
                     name_width=24)
    table.columns[-1].min_width = max(len(d.verdict) for d in comparison.deltas) if comparison.deltas else 7
    for d in comparison.deltas:
        ms = d.name.endswith("_ms")
        table.add_row(d.label, figure(d.before, ms=ms), figure(d.after, ms=ms), figure(d.delta, signed=True, ms=ms),
                      _range(d.low, d.high, signed=True, ms=ms), d.verdict)
    out.print(table)
    if comparison.only_before or comparison.only_after:
        print(f"{comparison.only_before} items only in the baseline and {comparison.only_after} only in this run were left out")
    for name, flips in (("pass -> fail", comparison.pass_to_fail), ("fail -> pass", comparison.fail_to_pass)):
        print(f"{name}: {len(flips)}")
        for flip in flips:
            print(f"  {flip.id}  {flip.question}")
