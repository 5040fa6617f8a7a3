"""One run as a self-contained HTML page: inline CSS and hand-drawn inline SVG, no script, no CDN.

Every string that comes from documents, questions or answers goes through `html.escape`.
"""
from __future__ import annotations

import math
from html import escape
from typing import Sequence

from .breakdown import Group
from .metrics import abstention_curve
from .runner import EvalRun, ItemResult, Summary

PLOTTED = (("reciprocal_rank", "reciprocal rank"), ("ndcg_at_k", "nDCG@k"), ("context_recall", "context recall"),
           ("citation_precision", "citation precision"), ("token_f1", "token F1"), ("token_recall", "token recall"),
           ("semantic_similarity", "semantic similarity"), ("groundedness", "groundedness"))
ITEM_COLUMNS = (("hit_at_k", "hit"), ("reciprocal_rank", "RR"), ("token_f1", "F1"),
                ("semantic_similarity", "sim"), ("groundedness", "grounded"))

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#fff;background:#2e7d32;padding:1px 6px;border-radius:3px}.fail{color:#fff;background:#c62828;padding:1px 6px;border-radius:3px}
.plots{display:flex;flex-wrap:wrap;gap:12px}.meta{color:#666}.hist{font-size:0.8em;color:#666}
details{margin:2px 0 8px}summary{cursor:pointer;color:#555}.passage{margin:6px 0;padding:6px;border-left:3px solid #ccc;background:#fafafa}
.passage.evidence{border-color:#2e7d32}.tag{font-size:0.8em;padding:0 4px;border:1px solid #aaa;border-radius:3px;margin-right:4px}
blockquote{margin:4px 0 4px 1em;color:#444}
"""


def build_report(run: EvalRun, summary: Summary) -> str:
    c = summary.config
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>passage eval — {escape(c.mode)} — {escape(c.started_at)}</title><style>{CSS}</style></head><body>",
        "<h1>passage evaluation</h1>",
        f"<p class=\"meta\">test set {escape(c.testset)} · {summary.items} items ({summary.answerable} answerable, "
        f"{summary.unanswerable} unanswerable) · k={c.k} · mode {escape(c.mode)} · answerer {escape(c.answerer)} · "
        f"started {escape(c.started_at)} · <b>{summary.passed}/{summary.items} passed</b></p>",
        "<h2>Summary</h2>", _summary_table(summary),
        *_groups_section(summary.groups),
        "<h2>Distributions</h2><div class=\"plots\">",
        *(histogram_svg([r.metrics.get(key) for r in run.results], label) for key, label in PLOTTED),
        _latency_plot(run.results), "</div>",
        *_abstention_section(run.results),
        "<h2>Questions</h2>", _items_table(run.results),
        "<h2>How to read this</h2>", _definitions(summary),
        "</body></html>\n",
    ]
    return "\n".join(parts)


GROUP_COLUMNS = (("pass_rate", "pass rate"), ("hit_at_k", "hit@k"), ("fact_stated", "fact stated"),
                 ("evidence_quoted", "evidence quoted"), ("false_abstentions", "false abstentions"),
                 ("abstention_recall", "abstention recall"))


def _groups_section(groups: Sequence[Group]) -> list[str]:
    """The run's figures per question type, turn, unanswerable kind and document (when the items say them)."""
    if not groups:
        return []
    head = "".join(f"<th>{label}</th>" for _, label in GROUP_COLUMNS)
    rows = "".join(
        f"<tr><td>{escape(g.dimension)}</td><td>{escape(g.value)}</td><td class=\"num\">{g.items}</td>"
        f"<td class=\"num\">{g.answerable}</td>"
        + "".join(f"<td class=\"num\">{fmt(getattr(g, key))}</td>" for key, _ in GROUP_COLUMNS) + "</tr>"
        for g in groups)
    return ["<h2>By group</h2>", f"<table><tr><th>by</th><th>group</th><th>items</th><th>answerable</th>{head}</tr>{rows}</table>"]


def _abstention_section(results: Sequence[ItemResult]) -> list[str]:
    """Precision / recall of abstaining below each answerability threshold, when the answerer gave one."""
    scored = [r for r in results if r.answerability is not None]
    if not scored:
        return []
    rows = "".join(
        f"<tr><td class=\"num\">{row['threshold']:.2f}</td><td class=\"num\">{fmt(row['precision'])}</td>"
        f"<td class=\"num\">{fmt(row['recall'])}</td><td class=\"num\">{fmt(row['false_abstention'])}</td></tr>"
        for row in abstention_curve([r.item.answerable for r in scored], [r.answerability for r in scored]))
    return ["<h2>Abstention curve</h2>",
            f"<p>Abstaining when the reader's answerability is below each threshold ({len(scored)} items).</p>",
            "<table><tr><th>threshold</th><th>precision</th><th>recall</th><th>false abstentions</th></tr>",
            rows, "</table>"]


def _summary_table(summary: Summary) -> str:
    rows = []
    for s in summary.metrics:
        better = "↑" if s.higher_is_better else "↓"
        rows.append(f"<tr><td>{escape(s.group)}</td><td>{escape(s.label)} {better}</td><td class=\"num\">{fmt(s.value)}</td>"
                    f"<td class=\"num\">{fmt(s.low)} – {fmt(s.high)}</td><td class=\"num\">{s.n}</td></tr>")
    return ("<table id=\"summary\"><thead><tr><th>group</th><th>metric</th><th>value</th><th>95% CI</th><th>n</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _items_table(results: Sequence[ItemResult]) -> str:
    head = "".join(f"<th>{escape(label)}</th>" for _, label in ITEM_COLUMNS)
    rows = []
    for r in results:
        badge = "<span class=\"pass\">pass</span>" if r.passed else "<span class=\"fail\">fail</span>"
        history = f"<div class=\"meta\">after: {escape(' / '.join(r.item.history))}</div>" if r.item.history else ""
        kind = "" if r.item.answerable else " <span class=\"tag\">unanswerable</span>"
        answer = ("<span class=\"tag\">abstained</span>" if r.abstained else "") + escape(r.answer)
        cells = "".join(f"<td class=\"num\">{fmt(r.metrics.get(key))}</td>" for key, _ in ITEM_COLUMNS)
        rows.append(f"<tr><td>{escape(r.item.id)}</td><td>{badge}</td><td>{escape(r.item.question)}{kind}{history}</td>"
                    f"<td>{answer}</td>{cells}<td class=\"num\">{r.latency_ms:.0f}</td></tr>")
        rows.append(f"<tr><td></td><td colspan=\"{len(ITEM_COLUMNS) + 4}\">{_details(r)}</td></tr>")
    return (f"<table id=\"items\"><thead><tr><th>id</th><th>result</th><th>question</th><th>answer</th>{head}"
            f"<th>ms</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _details(r: ItemResult) -> str:
    evidence = sum(p.evidence for p in r.retrieved)
    quotes = "".join(f"<blockquote>{escape(q)}</blockquote>" for q in r.item.reference_contexts) or "<p>(none)</p>"
    passages = []
    for rank, p in enumerate(r.retrieved, start=1):
        tags = ("<span class=\"tag\">evidence</span>" if p.evidence else "") + (f"<span class=\"tag\">cited [{p.cited}]</span>" if p.cited else "")
        passages.append(f"<div class=\"passage{' evidence' if p.evidence else ''}\"><b>{rank}.</b> {tags}"
                        f"<b>{escape(p.source)}</b> — {escape(p.section)} <span class=\"meta\">score {p.score:.4f}</span>"
                        f"<div>{escape(p.text)}</div></div>")
    return (f"<details><summary>reference and {len(r.retrieved)} passages ({evidence} with evidence)</summary>"
            f"<p><b>reference:</b> {escape(r.item.reference) or '(none)'}</p><div><b>reference quotes:</b>{quotes}</div>"
            f"{''.join(passages) or '<p>(nothing retrieved)</p>'}</details>")


def _definitions(summary: Summary) -> str:
    points = [
        "An <b>evidence</b> passage is a retrieved passage of the item's source whose heading or text holds a reference quote: exactly, "
        "or with rapidfuzz partial_ratio ≥ 0.8 (so a quote split across chunks counts when about two thirds of it are in one).",
        "An item <b>passes</b> when: unanswerable — the assistant abstained; answerable — evidence is in the top k, the "
        "assistant answered, and its citations include an evidence passage (answered at all, when it has no quotes).",
        "<b>Groundedness</b>: share of answer sentences supported — the answerer's own flag when it sets one (extractive "
        "answers quote passages, so theirs is 1.0 by construction), otherwise the sentence must appear (fuzzy ≥ 0.8) in a passage it cites.",
        "Token F1/recall use SQuAD normalisation against the reference answer; semantic similarity is the cosine of "
        "the answer and reference embeddings (the retrieval model). A false abstention scores 0 on all three.",
        "Abstention precision/recall/F1 treat abstaining as detecting unanswerable items; false abstentions are the share "
        "of answerable items the assistant declined.",
        f"Intervals: {summary.confidence:.0%} percentile bootstrap over items, {summary.resamples} resamples, seed {summary.seed}.",
        *(escape(n) for n in summary.notes),
    ]
    return "<ul>" + "".join(f"<li>{p}</li>" for p in points) + "</ul>"


def histogram_svg(values: Sequence[float | None], title: str, lo: float = 0.0, hi: float = 1.0, bins: int = 10,
                  marks: Sequence[tuple[str, float]] = ()) -> str:
    """An inline SVG histogram of the defined values in [lo, hi], with optional labelled vertical marks."""
    data = [v for v in values if v is not None]
    width, height, left, bottom, top = 280, 170, 30, 22, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    counts = [0] * bins
    for v in data:
        i = int((min(max(v, lo), hi) - lo) / (hi - lo) * bins) if hi > lo else 0
        counts[min(i, bins - 1)] += 1
    tallest = max(counts) or 1
    bar_w = plot_w / bins
    shapes = [f"<text x=\"{width / 2}\" y=\"15\" text-anchor=\"middle\" font-size=\"12\">{escape(title)} (n={len(data)})</text>",
              f"<line x1=\"{left}\" y1=\"{top + plot_h}\" x2=\"{left + plot_w}\" y2=\"{top + plot_h}\" stroke=\"#999\"/>"]
    for i, count in enumerate(counts):
        h = count / tallest * plot_h
        shapes.append(f"<rect x=\"{left + i * bar_w + 1:.1f}\" y=\"{top + plot_h - h:.1f}\" width=\"{bar_w - 2:.1f}\" "
                      f"height=\"{h:.1f}\" fill=\"#5c7cfa\"><title>{count}</title></rect>")
    for name, x in marks:
        px = left + (min(max(x, lo), hi) - lo) / (hi - lo) * plot_w if hi > lo else left
        shapes.append(f"<line x1=\"{px:.1f}\" y1=\"{top}\" x2=\"{px:.1f}\" y2=\"{top + plot_h}\" stroke=\"#c62828\" stroke-dasharray=\"3,2\"/>"
                      f"<text x=\"{px + 2:.1f}\" y=\"{top + 10}\" font-size=\"10\" fill=\"#c62828\">{escape(name)}</text>")
    shapes += [f"<text x=\"{left}\" y=\"{height - 6}\" font-size=\"10\">{_tick(lo)}</text>",
               f"<text x=\"{left + plot_w}\" y=\"{height - 6}\" font-size=\"10\" text-anchor=\"end\">{_tick(hi)}</text>",
               f"<text x=\"{left - 4}\" y=\"{top + 8}\" font-size=\"10\" text-anchor=\"end\">{tallest}</text>"]
    if not data:
        shapes.append(f"<text x=\"{width / 2}\" y=\"{top + plot_h / 2}\" text-anchor=\"middle\" font-size=\"11\">no values</text>")
    return (f"<svg class=\"hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" "
            f"role=\"img\" aria-label=\"{escape(title)}\">{''.join(shapes)}</svg>")


def _latency_plot(results: Sequence[ItemResult]) -> str:
    from .metrics import percentile

    latencies = [r.latency_ms for r in results]
    top = _nice_ceiling(max(latencies, default=1.0))
    marks = [(name, v) for name, v in (("p50", percentile(latencies, 50)), ("p95", percentile(latencies, 95))) if v is not None]
    return histogram_svg(latencies, "latency (ms)", 0.0, top, 12, marks)


def _nice_ceiling(x: float) -> float:
    """`_nice_ceiling(730) == 1000`, `_nice_ceiling(180) == 200`."""
    if x <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(x))
    return next(m * step for m in (1, 2, 5, 10) if m * step >= x)


def _tick(x: float) -> str:
    return f"{x:g}"


def fmt(value: float | None) -> str:
    """`fmt(0.81234) == "0.812"`, `fmt(None) == "–"`, `fmt(1234.5) == "1234"`."""
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3f}"
