"""An evaluation run from its parts, against hand-computed values: test-set reading, scoring
one item, the summary, the files of a run, comparison, gates and the report. No model:
answers are built by hand."""
from __future__ import annotations

import dataclasses
import json
import math

import pytest

from passage.errors import InputError
from passage.models import Answer, AnswerSentence, Chunk, Citation, Passage
from rag.evaluation.compare import Gate, compare_runs, failed_gates, parse_gates
from rag.evaluation.report import build_report, histogram_svg
from rag.evaluation.runner import EvalRun, RunConfig, score_item, summarize
from rag.evaluation.store import load_run, write_run
from rag.evaluation.testset import EvalItem, load_testset


# --- test set reading ----------------------------------------------------------------------

def _write(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_load_testset_reads_this_projects_fields(tmp_path):
    path = _write(tmp_path / "t.jsonl", [
        {"id": "q1", "user_input": "How old was she?", "reference": "13.", "reference_contexts": ["at the age of 13"],
         "source": "leaving-north-korea", "section": "S", "answerable": True, "history": ["Tell me about Yeonmi Park."]},
        "",
        {"id": "q2", "user_input": "Phone number?", "reference": "The documents do not say.", "reference_contexts": [],
         "answerable": False},
    ])
    items = load_testset(path)
    assert items[0] == EvalItem("q1", "How old was she?", "13.", ("at the age of 13",), "leaving-north-korea", "S", True,
                                ("Tell me about Yeonmi Park.",))
    assert items[1].answerable is False and items[1].reference_contexts == ()


def test_load_testset_reads_ragas_fields_and_ignores_unknown_ones(tmp_path):
    path = _write(tmp_path / "r.jsonl", [
        {"question": "Who chaired it?", "ground_truth": "Michael Kirby.", "contexts": ["Michael Kirby, Chair"],
         "episode_done": True, "metadata": {"x": 1}},
        {"user_input": "Why?", "ground_truth_contexts": "one quote", "retrieved_contexts": ["ignored"]},
        {"user_input": [{"type": "human", "content": "Tell me about Yeonmi Park."}, {"type": "ai", "content": "She…"},
                        {"type": "human", "content": "How old was she?"}], "reference": "13"},
    ])
    first, second, third = load_testset(path)
    assert first == EvalItem("line1", "Who chaired it?", "Michael Kirby.", ("Michael Kirby, Chair",))
    assert second.reference_contexts == ("one quote",) and second.answerable
    assert (third.question, third.history) == ("How old was she?", ("Tell me about Yeonmi Park.",))


def test_load_testset_errors_name_the_line(tmp_path):
    with pytest.raises(InputError, match=r"t.jsonl:2: not valid JSON"):
        load_testset(_write(tmp_path / "t.jsonl", [{"user_input": "ok"}, "{not json"]))
    with pytest.raises(InputError, match=r"t.jsonl:1: no question"):
        load_testset(_write(tmp_path / "t.jsonl", [{"reference": "an answer"}]))
    with pytest.raises(InputError, match=r"t.jsonl:1: expected a JSON object"):
        load_testset(_write(tmp_path / "t.jsonl", ["[1, 2]"]))
    with pytest.raises(InputError, match=r"duplicate id 'a'"):
        load_testset(_write(tmp_path / "t.jsonl", [{"id": "a", "question": "x"}, {"id": "a", "question": "y"}]))
    with pytest.raises(InputError, match="no items"):
        load_testset(_write(tmp_path / "t.jsonl", [""]))
    with pytest.raises(InputError, match="test set not found"):
        load_testset(tmp_path / "missing.jsonl")


# --- scoring one item ----------------------------------------------------------------------

def _passage(n: int, text: str, source: str = "doc", score: float = 1.0) -> Passage:
    chunk = Chunk(id=f"c{n}", source=source, title="Doc", section="Doc > S", text=text, start=0, end=len(text),
                  page=None, tokens=10, prefix="Doc > S")
    return Passage(chunk, score)


EVIDENCE = "Yeonmi Park escaped North Korea at the age of 13 with her mother"
ITEM = EvalItem("q1", "How old was Yeonmi Park?", "She was 13.", (EVIDENCE,), "doc")
NOISE = _passage(1, "The Refugee Convention was adopted in 1951 in Geneva.")
GOLD = _passage(2, "In 2007, " + EVIDENCE + ".")


def _answer(retrieved, cited=(), abstained=False, text="She was 13 years old [1].", sentences=None) -> Answer:
    citations = tuple(Citation(n, p) for n, p in enumerate(cited, start=1))
    if sentences is None:
        sentences = () if abstained else (AnswerSentence(text, (1,), True),)
    return Answer(question=ITEM.question, text="No answer." if abstained else text, abstained=abstained,
                  citations=citations, retrieved=tuple(retrieved), sentences=sentences)


def test_score_item_answered_with_evidence_cited():
    result = score_item(ITEM, _answer([NOISE, GOLD], [GOLD]), 12.5, 0.9, k=5)
    assert result.passed
    assert [p.evidence for p in result.retrieved] == [False, True]
    assert [p.cited for p in result.retrieved] == [None, 1]
    s = result.metrics
    assert (s["hit_at_k"], s["reciprocal_rank"], s["context_recall"]) == (1.0, 0.5, 1.0)
    assert s["ndcg_at_k"] == pytest.approx(1 / math.log2(3))
    assert (s["citation_precision"], s["citation_recall"]) == (1.0, 1.0)
    # "she was 13 years old" vs "she was 13": P = 3/5, R = 1, F1 = 0.75
    assert s["token_f1"] == pytest.approx(0.75) and s["token_recall"] == 1.0
    assert (s["semantic_similarity"], s["groundedness"]) == (0.9, 1.0)


def test_score_item_citing_only_noise_fails_and_duplicate_citations_count_once():
    result = score_item(ITEM, _answer([GOLD, NOISE], [NOISE, GOLD, GOLD]), 1.0, 0.5, k=5)
    assert result.metrics["citation_precision"] == 0.5  # two distinct cited passages, one holds evidence
    assert len(result.citations) == 2
    noise_only = score_item(ITEM, _answer([GOLD, NOISE], [NOISE]), 1.0, 0.5, k=5)
    assert not noise_only.passed
    assert (noise_only.metrics["citation_precision"], noise_only.metrics["citation_recall"]) == (0.0, 0.0)


def test_score_item_with_nothing_retrieved():
    result = score_item(ITEM, _answer([], abstained=True), 1.0, None, k=5)
    assert not result.passed
    s = result.metrics
    assert (s["hit_at_k"], s["reciprocal_rank"], s["ndcg_at_k"], s["context_recall"]) == (0.0, 0.0, 0.0, 0.0)
    assert (s["citation_precision"], s["citation_recall"], s["groundedness"]) == (None, None, None)
    assert (s["token_f1"], s["token_recall"], s["semantic_similarity"]) == (0.0, 0.0, 0.0)  # a false abstention says nothing


def test_score_item_evidence_outside_top_k_is_a_miss():
    result = score_item(ITEM, _answer([NOISE, GOLD], [GOLD]), 1.0, None, k=1)
    assert result.metrics["hit_at_k"] == 0.0 and result.metrics["reciprocal_rank"] == 0.0
    assert not result.passed


def test_score_item_unanswerable_passes_only_by_abstaining():
    item = EvalItem("u1", "What is the phone number?", "The documents do not say.", (), answerable=False)
    abstained = score_item(item, _answer([NOISE], abstained=True), 1.0, None, k=5)
    assert abstained.passed
    assert all(v is None for v in abstained.metrics.values())
    answered = score_item(item, _answer([NOISE], [NOISE]), 1.0, 0.2, k=5)
    assert not answered.passed
    assert answered.metrics["groundedness"] == 1.0 and answered.metrics["token_f1"] is None


def test_score_item_with_empty_reference():
    item = EvalItem("e1", "Anything?")
    result = score_item(item, _answer([NOISE], [NOISE]), 1.0, None, k=5)
    assert result.passed  # answerable without quotes: passes by answering
    assert all(result.metrics[k] is None for k in ("hit_at_k", "ndcg_at_k", "citation_precision", "token_f1", "semantic_similarity"))


def test_groundedness_decided_by_fuzzy_match_when_the_answerer_sets_no_flag():
    text = f"{EVIDENCE} [1]. She later became a famous pianist in Vienna [1]."
    answer = _answer([GOLD], [GOLD], text=text, sentences=())
    assert score_item(ITEM, answer, 1.0, None, k=5).metrics["groundedness"] == 0.5
    flagged = _answer([GOLD], [GOLD], text=text, sentences=(
        AnswerSentence("A sentence the answerer vouched for.", (1,), True),
        AnswerSentence("She became a famous pianist in Vienna.", (1,), None),  # no flag, and in no passage
    ))
    assert score_item(ITEM, flagged, 1.0, None, k=5).metrics["groundedness"] == 0.5


def test_a_quote_that_is_a_heading_counts_as_evidence():
    item = EvalItem("h1", "Which section?", "Doc > S.", ("Doc > S",), "doc")
    assert score_item(item, _answer([NOISE], [NOISE]), 1.0, None, k=5).metrics["hit_at_k"] == 1.0


# --- summary, store, compare, gates, report ------------------------------------------------

def _run(results) -> EvalRun:
    return EvalRun(RunConfig("t.jsonl", 5, "hybrid", "extractive", "2025-01-01T00:00:00+00:00"), tuple(results))


def _fake_run():
    unanswerable = EvalItem("u1", "<script>alert(1)</script> phone?", "", (), answerable=False)
    return _run([
        score_item(ITEM, _answer([NOISE, GOLD], [GOLD]), 100.0, 0.8, k=5),
        score_item(EvalItem("q2", "Again?", "She was 13.", (EVIDENCE,), "doc"), _answer([NOISE]), 300.0, 0.4, k=5),
        score_item(unanswerable, _answer([NOISE], abstained=True), 200.0, None, k=5),
    ])


def test_summarize_hand_computed():
    summary = summarize(_fake_run())
    assert (summary.items, summary.answerable, summary.unanswerable, summary.passed) == (3, 2, 1, 2)
    value = {s.name: s.value for s in summary.metrics}
    assert value["hit_at_k"] == 0.5 and value["mrr"] == 0.25
    assert value["citation_precision"] == 1.0 and value["citation_recall"] == 0.5
    assert summary.metric("citation_recall").n == 2
    assert (value["abstention_precision"], value["abstention_recall"], value["false_abstention_rate"]) == (1.0, 1.0, 0.0)
    assert value["latency_p50_ms"] == 200.0 and value["latency_p95_ms"] == pytest.approx(290.0)
    assert value["pass_rate"] == pytest.approx(2 / 3)
    ci = summary.metric("hit_at_k")
    assert ci.low <= ci.value <= ci.high


def test_store_round_trip(tmp_path):
    run = _fake_run()
    write_run(tmp_path / "run", run, summarize(run))
    assert load_run(tmp_path / "run") == run
    row = json.loads((tmp_path / "run" / "results.jsonl").read_text().splitlines()[0])
    assert {"user_input", "retrieved_contexts", "response", "reference", "reference_contexts"} <= row.keys()
    assert row["retrieved_contexts"][1] == GOLD.chunk.text and row["hit_at_k"] == 1.0


def test_load_run_errors(tmp_path):
    from passage.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no eval run"):
        load_run(tmp_path)
    (tmp_path / "results.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(InputError, match="results.jsonl:1"):
        load_run(tmp_path)


def test_compare_runs_lists_flips_and_paired_deltas():
    before = _fake_run()
    first, second, third = before.results
    import dataclasses

    after = _run([dataclasses.replace(first, passed=False), dataclasses.replace(second, passed=True), third])
    comparison = compare_runs(before, after)
    assert [f.id for f in comparison.pass_to_fail] == ["q1"] and [f.id for f in comparison.fail_to_pass] == ["q2"]
    assert comparison.common == 3
    hit = next(d for d in comparison.deltas if d.name == "hit_at_k")
    assert (hit.before, hit.after, hit.delta, hit.low, hit.high, hit.verdict) == (0.5, 0.5, 0.0, 0.0, 0.0, "no change")

    from pathlib import Path

    from rich.console import Console

    from app.eval_render import print_comparison

    console = Console(width=80, record=True)
    print_comparison(comparison, Path("runs/before"), console)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80  # the terminal's table neither wraps nor cuts a figure
    assert [line.split() for line in lines if line.strip().startswith("evidence hit@k")] == [
        ["evidence", "hit@k", "0.500", "0.500", "+0.000", "+0.000", "–", "+0.000", "no", "change"]]


def test_parse_gates_and_failures():
    assert parse_gates(["hit_at_k=0.8", " mrr = 0.5"]) == [Gate("hit_at_k", 0.8), Gate("mrr", 0.5)]
    with pytest.raises(InputError, match="choose one of: hit_at_k, mrr"):
        parse_gates(["bogus=1"])
    with pytest.raises(InputError, match="lower is better"):
        parse_gates(["latency_p95_ms=100"])
    with pytest.raises(InputError, match="expected METRIC=VALUE"):
        parse_gates(["hit_at_k"])
    with pytest.raises(InputError, match="'high' is not a number"):
        parse_gates(["hit_at_k=high"])
    summary = summarize(_fake_run())
    assert failed_gates(summary, [Gate("hit_at_k", 0.5)]) == []
    assert failed_gates(summary, [Gate("hit_at_k", 0.6)]) == ["hit_at_k = 0.500 is under 0.6"]


def test_report_is_self_contained_and_escapes_text():
    run = _fake_run()
    page = build_report(run, summarize(run))
    assert '<table id="summary">' in page and '<table id="items">' in page
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") == 9


def test_histogram_counts_values_into_bins():
    svg = histogram_svg([0.0, 0.05, 1.0, None], "x", bins=2)
    assert "x (n=3)" in svg and "<title>2</title>" in svg and "<title>1</title>" in svg
    assert "no values" in histogram_svg([], "empty")


def test_breakdown_by_question_type_turn_unanswerable_kind_and_document(tmp_path):
    from rag.evaluation.breakdown import breakdown

    follow = EvalItem("q3", "And her age?", "She was 13.", (EVIDENCE,), "doc", history=("Who is Yeonmi Park?",), qtype="how_many")
    changed = EvalItem("u2", "Phone number in 2019?", answerable=False, qtype="what", kind="changed_number")
    missing = EvalItem("u3", "Her salary?", answerable=False, qtype="what", kind="missing_attribute")
    other = EvalItem("q4", "When was the Convention adopted?", "1951", ("adopted in 1951",), "treaty", qtype="when")
    run = _run([
        score_item(dataclasses.replace(ITEM, qtype="how_many"), _answer([NOISE, GOLD], [GOLD]), 1.0, None, k=5),
        score_item(follow, _answer([NOISE], abstained=True), 1.0, None, k=5),
        score_item(changed, _answer([NOISE], abstained=True), 1.0, None, k=5),
        score_item(missing, _answer([NOISE], [NOISE], text="Some sentence [1]."), 1.0, None, k=5),
        score_item(other, _answer([NOISE], [NOISE], text="In 1951 in Geneva [1]."), 1.0, None, k=5),
    ])
    groups = {(g.dimension, g.value): g for g in breakdown(run.results)}
    assert set(groups) == {("question type", "how_many"), ("question type", "what"), ("question type", "when"),
                           ("turn", "first question"), ("turn", "follow-up"), ("unanswerable kind", "changed_number"),
                           ("unanswerable kind", "missing_attribute"), ("document", "doc"), ("document", "treaty")}
    many = groups[("question type", "how_many")]
    assert (many.items, many.answerable, many.pass_rate, many.hit_at_k, many.false_abstentions) == (2, 2, 0.5, 0.5, 0.5)
    assert many.abstention_recall is None
    what = groups[("question type", "what")]
    assert (what.answerable, what.abstention_recall, what.false_abstentions, what.fact_stated) == (0, 0.5, None, None)
    assert groups[("turn", "follow-up")].items == 1 and groups[("turn", "first question")].items == 4
    doc, treaty = groups[("document", "doc")], groups[("document", "treaty")]
    assert (doc.items, doc.answerable, doc.pass_rate, treaty.items, treaty.hit_at_k) == (2, 2, 0.5, 1, 0.0)  # NOISE is from "doc"
    assert groups[("unanswerable kind", "changed_number")].abstention_recall == 1.0
    summary = summarize(run)
    assert summary.groups == tuple(breakdown(run.results))
    write_run(tmp_path / "run", run, summary)
    assert load_run(tmp_path / "run") == run  # kind and qtype survive the round trip
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())["groups"]
    assert [(g["dimension"], g["value"], g["items"]) for g in saved][:4] == [
        ("question type", "how_many", 2), ("question type", "what", 2), ("question type", "when", 1), ("turn", "first question", 4)]
    assert "<h2>By group</h2>" in (tmp_path / "run" / "report.html").read_text()


def test_breakdown_of_a_file_without_types_or_follow_ups_is_empty():
    from rag.evaluation.breakdown import breakdown

    assert breakdown(_fake_run().results) == []
