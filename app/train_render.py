"""A reader training run as the terminal shows it: its out-of-fold figures, whole and per document."""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from app.eval_render import figure

NAME_WIDTH = 36
_COLUMNS = (("lead", "lead_right_out_of_fold"), ("quotes", "answer_quotes_evidence_out_of_fold"),
            ("recall", "abstention_recall_out_of_fold"), ("false", "false_abstention_out_of_fold"))


def training_line(weights, target: Path) -> str:
    """One line: how many items, the out-of-fold figures and how they were folded, the threshold, the file."""
    f = weights.figures
    return (f"trained on {f['items']} items ({f['answerable']} answerable): lead sentence right "
            f"{figure(f['lead_right_out_of_fold'])}, abstention recall {figure(f['abstention_recall_out_of_fold'])} at false "
            f"abstention {figure(f['false_abstention_out_of_fold'])} (out of fold, {f['folds']}); "
            f"threshold {weights.threshold:.3f}; wrote {target}")


def by_document_lines(by_document: Mapping[str, Mapping[str, float | None]]) -> list[str]:
    """Each document's out-of-fold figures, one line each under a header, in 80 columns: items,
    answerable items, lead sentence right, answer quotes the evidence, abstention recall, false
    abstentions (– where a document has no item to count)."""
    lines = [f"{'document':<{NAME_WIDTH}} {'items':>5} {'ans.':>5}" + "".join(f" {h:>7}" for h, _ in _COLUMNS)]
    for name, g in by_document.items():
        short = name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"
        lines.append(f"{short:<{NAME_WIDTH}} {g['items']:>5} {g['answerable']:>5}"
                     + "".join(f" {figure(g[key]):>7}" for _, key in _COLUMNS))
    return lines


def rescoring_line(rule, target: Path) -> str:
    """One line: the rule chosen, the lead right without and with it, how often it asks, the file."""
    f = rule.figures
    margin = f"{rule.margin:g}" if rule.margin < 1e9 else "any"
    return (f"tuned on {f['questions']} answerable questions of {f['items']}: lead sentence right "
            f"{figure(f['lead_right_without'])} -> {figure(f['lead_right'])} (out of fold) re-ordering the top "
            f"{rule.top} by weight {rule.weight:g} when the top two are within {margin} log-odds "
            f"({figure(f['consulted'])} of questions); wrote {target}")
