"""The evaluation page: run a test set through the assistant and read the scores.

The questions are a split of the test set (dev, test or all) and, for a quicker run, a sample
that keeps its mix of answerable, unanswerable and follow-up questions (rag/evaluation/sample.py).
Runs are written where `passage eval` writes them (`runs/<time>-<mode>/` under the working
directory), so a run made here can be compared with one made on the command line and back, here
or with `passage eval --compare`. The numbers all come from `rag.evaluation`; this page only lays them out.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from passage.errors import InputError, PassageError
from rag.evaluation import RUNS, compare_runs, evaluate, load_run, load_testset
from rag.evaluation.sample import mix, stratified_sample
from rag.evaluation.store import RESULTS
from ui import components, session

BUNDLED = session.CORPUS / "testset.jsonl"
HEADLINE = ("pass_rate", "hit_at_k", "citation_recall", "abstention_f1")
SPLITS = ("dev", "test", "all")
SAMPLE = 100  # questions asked by default: about two minutes on two cores


def render() -> None:
    st.title("Evaluation")
    st.caption("Ask a test set's questions with the sidebar's settings and score retrieval, citations, "
               "answers, abstentions and latency, with 95% bootstrap intervals.")
    try:
        items, name = choose_testset()
    except PassageError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if items is None:
        return
    options = session.options()
    size = int(st.number_input("Questions to ask", 1, len(items), min(len(items), SAMPLE), key="eval_limit",
                               help="A sample in the test set's mix; fewer questions run faster, and the intervals get wider."))
    sample = stratified_sample(items, size)
    st.caption(f"{_mix(sample)}, drawn from {len(items)} questions ({_mix(items)}).")
    if st.button(f"Run {size} questions ({options.mode}, k={options.k}, {options.answerer})", type="primary",
                 icon=":material/play_arrow:"):
        try:
            st.session_state["eval"] = run(sample, name, options)
        except PassageError as exc:
            st.error(str(exc), icon=":material/error:")
    result = st.session_state.get("eval")
    if result:
        show_run(*result)
    else:
        saved_comparison()


def _mix(items) -> str:
    """`"12 answerable, 6 unanswerable, 2 follow-up"`."""
    return ", ".join(f"{n} {kind}" for kind, n in mix(items).items())


def choose_testset():
    """The items and display name of the chosen test set; (None, "") while an upload is awaited."""
    source, split = st.columns([3, 2])
    choice = source.radio("Test set", ["bundled", "upload"], horizontal=True, key="eval_source",
                          format_func={"bundled": "Bundled (corpus/testset.jsonl)", "upload": "Upload a JSONL file"}.get)
    chosen = split.segmented_control("Split", SPLITS, default="test", key="eval_split", required=True,
                                     help="dev: what the reader was tuned on; test: held out; all: both. "
                                          "A file without splits is used whole.")
    split_name = None if chosen in (None, "all") else chosen
    if choice == "bundled":
        return load_testset(BUNDLED, split_name), f"corpus/testset.jsonl ({chosen or 'all'})"
    upload = st.file_uploader("Test set (JSON lines, this project's or RAGAS's fields)", type=["jsonl", "json"],
                              key="eval_upload")
    if upload is None:
        return None, ""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "testset.jsonl"
        path.write_bytes(upload.getvalue())
        try:
            items = load_testset(path, split_name)
        except PassageError as exc:  # name the user's file, not the temporary one
            raise InputError(str(exc).replace(str(path), upload.name)) from None
    return items, upload.name


def run(items, name: str, options: session.Options):
    assistant = session.assistant()
    bar = st.progress(0.0, text="Asking…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text="Scoring…" if done == total else f"Asked {done} of {total} questions")

    result = evaluate(assistant, items, None, progress, testset=name, **options.as_kwargs())
    bar.empty()
    return result


def show_run(evaluation, summary, folder: Path) -> None:
    st.success(f"{summary.passed} of {summary.items} passed ({summary.answerable} answerable, "
               f"{summary.unanswerable} unanswerable). Saved to {components.escape_md(str(folder))}.",
               icon=":material/task_alt:")
    for column, name in zip(st.columns(len(HEADLINE)), HEADLINE):
        m = summary.metric(name)
        column.metric(m.label, _fmt(m.value), border=True)
        interval = f"95% CI {_fmt(m.low)} – {_fmt(m.high)}" if m.low is not None else "no interval"
        column.caption(f"{interval} · n={m.n}")
    tabs = st.tabs(["Summary", "Plots", "Questions", "Compare"])
    with tabs[0]:
        st.dataframe(summary_frame(summary), hide_index=True, width="stretch")
        for note in summary.notes:
            st.caption(components.escape_md(note))
    with tabs[1]:
        plots(evaluation, summary)
    with tabs[2]:
        questions(evaluation)
    with tabs[3]:
        comparison(evaluation, folder)


def summary_frame(summary) -> pd.DataFrame:
    return pd.DataFrame([{"Group": m.group, "Metric": m.label + ("" if m.higher_is_better else " ↓"),
                          "Value": m.value, "95% CI low": m.low, "95% CI high": m.high, "n": m.n}
                         for m in summary.metrics])


def plots(evaluation, summary) -> None:
    scores = pd.DataFrame([{"metric": m.label, "group": m.group, "value": m.value, "low": m.low, "high": m.high}
                           for m in summary.metrics if m.value is not None and m.group != "latency"])
    base = alt.Chart(scores).encode(y=alt.Y("metric:N", sort=None, title=None, axis=alt.Axis(labelLimit=240)))
    bars = base.mark_rule(strokeWidth=3, color="#9cc3d3").encode(x=alt.X("low:Q", scale=alt.Scale(domain=[0, 1]), title="score with 95% CI"), x2="high:Q")
    dots = base.mark_point(filled=True, size=70, color="#1f6f8b").encode(x="value:Q", tooltip=["metric", "value", "low", "high"])
    st.altair_chart((bars + dots).properties(height=28 * len(scores) + 30), width="stretch")
    latency = pd.DataFrame({"latency (ms)": [r.latency_ms for r in evaluation.results],
                            "passed": ["passed" if r.passed else "failed" for r in evaluation.results]})
    st.altair_chart(
        alt.Chart(latency).mark_bar().encode(
            x=alt.X("latency (ms):Q", bin=alt.Bin(maxbins=20)), y=alt.Y("count():Q", title="questions"),
            color=alt.Color("passed:N", scale=alt.Scale(domain=["passed", "failed"], range=["#1f6f8b", "#d9822b"])),
        ).properties(height=220, title="Latency per question"),
        width="stretch",
    )


def questions(evaluation) -> None:
    failed_only = st.toggle("Failed only", key="eval_failed_only")
    rows = [{"id": r.item.id, "passed": r.passed, "question": r.item.question, "answerable": r.item.answerable,
             "abstained": r.abstained, "hit@k": r.metrics.get("hit_at_k"), "citation recall": r.metrics.get("citation_recall"),
             "token F1": r.metrics.get("token_f1"), "latency (ms)": r.latency_ms, "answer": r.answer}
            for r in evaluation.results if not (failed_only and r.passed)]
    st.caption(f"{len(rows)} questions")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"question": st.column_config.TextColumn(width="large"),
                                "answer": st.column_config.TextColumn(width="large")})


def saved_runs(exclude: Path | None = None) -> list[Path]:
    """Run folders under runs/ that hold results, newest first."""
    return sorted((p for p in RUNS.glob("*") if (p / RESULTS).is_file() and (exclude is None or p.resolve() != exclude.resolve())),
                  reverse=True)


def comparison(evaluation, folder: Path) -> None:
    earlier = saved_runs(exclude=folder)
    if not earlier:
        st.info("No earlier run to compare with yet: runs are saved under runs/ in the working directory.")
        return
    baseline = st.selectbox("Earlier run", earlier, format_func=lambda p: p.name, key="eval_baseline")
    try:
        show_comparison(compare_runs(load_run(baseline), evaluation))
    except PassageError as exc:
        st.error(str(exc), icon=":material/error:")


def saved_comparison() -> None:
    """Two saved runs side by side, as `passage eval --compare` shows them, before any run on this page."""
    runs = saved_runs()
    if len(runs) < 2:
        return
    st.subheader("Compare saved runs")
    newer, older = st.columns(2)
    after = newer.selectbox("Run", runs, format_func=lambda p: p.name, key="eval_saved_after")
    before = older.selectbox("Compared with", [r for r in runs if r != after], format_func=lambda p: p.name,
                             key="eval_saved_before")
    try:
        show_comparison(compare_runs(load_run(before), load_run(after)))
    except PassageError as exc:
        st.error(str(exc), icon=":material/error:")


def show_comparison(result) -> None:
    st.caption(f"{result.common} questions in both runs; deltas are the later run minus the earlier one, "
               "with paired 95% bootstrap intervals.")
    st.dataframe(pd.DataFrame([{"Metric": d.label, "Earlier": d.before, "This run": d.after, "Delta": d.delta,
                                "CI low": d.low, "CI high": d.high, "Verdict": d.verdict} for d in result.deltas]),
                 hide_index=True, width="stretch")
    for title, flips in (("Passed before, fail now", result.pass_to_fail), ("Failed before, pass now", result.fail_to_pass)):
        st.markdown(f"**{title}: {len(flips)}**")
        if flips:
            st.dataframe(pd.DataFrame([{"id": f.id, "question": f.question} for f in flips]), hide_index=True, width="stretch")


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}"


if __name__ == "__main__":
    render()
