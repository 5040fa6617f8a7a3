"""The evaluation end to end: the real assistant over the ingested corpus, a small test set,
files on disk, a RAGAS-style file from elsewhere, and the `passage eval` command."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from passage.errors import InputError
from rag.evaluation import AGGREGATES, evaluate, load_run, load_testset, run_eval

ROOT = Path(__file__).resolve().parent.parent
PICKED = ("q002", "q018", "q019", "q020", "q071", "q072")  # q019 is a follow-up; q071, q072 are unanswerable


@pytest.fixture
def small_testset(tmp_path) -> Path:
    rows = [json.loads(line) for line in (ROOT / "corpus" / "testset.jsonl").read_text(encoding="utf-8").splitlines()]
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows if r["id"] in PICKED), encoding="utf-8")
    return path


@pytest.mark.slow
def test_eval_writes_results_summary_and_report(assistant, small_testset, tmp_path):
    items = load_testset(small_testset)
    seen = []
    run, summary, folder = evaluate(assistant, items, tmp_path / "run", lambda done, total: seen.append((done, total)))

    assert seen[-1] == (6, 6)
    assert (summary.items, summary.answerable, summary.unanswerable) == (6, 4, 2)
    assert (run.config.k, run.config.mode, run.config.answerer) == (5, "hybrid", "reader")
    follow_up = next(r for r in run.results if r.item.id == "q019")
    assert "Yeonmi Park" in follow_up.query  # asked with its history, like the chat does

    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(PICKED)
    for row in rows:
        assert {"user_input", "retrieved_contexts", "response", "reference", "reference_contexts",
                "retrieved", "citations", "passed", "latency_ms", "hit_at_k", "token_f1", "groundedness"} <= row.keys()
        assert len(row["retrieved_contexts"]) == 5 and row["latency_ms"] > 0

    saved = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert set(saved["metrics"]) == {a.name for a in AGGREGATES}
    assert saved["bootstrap"]["seed"] == 0 and saved["bootstrap"]["resamples"] == 1000
    hit = saved["metrics"]["hit_at_k"]
    assert hit["ci_low"] <= hit["value"] <= hit["ci_high"]

    page = (folder / "report.html").read_text(encoding="utf-8")
    assert '<table id="summary">' in page and '<table id="items">' in page and "<svg" in page
    assert all(f"<td>{i}</td>" in page for i in PICKED)
    assert "<script" not in page
    assert load_run(folder) == run


@pytest.mark.slow
def test_a_ragas_file_from_elsewhere_loads_and_runs(assistant, tmp_path):
    path = tmp_path / "ragas.jsonl"
    rows = [
        {"question": "How old was Yeonmi Park when she escaped North Korea?",
         "ground_truth": "She escaped at the age of 13 with her mother.",
         "contexts": ["Yeonmi Park, who escaped North Korea at the age of 13 with her mother"],
         "answer": "a response some other system gave", "evolution_type": "simple", "metadata": [{"source": "x"}],
         "episode_done": True},
        {"user_input": "What does Article 13 of the Universal Declaration of Human Rights say about leaving a country?",
         "reference": "Everyone has the right to leave any country, including his own.", "synthesizer_name": "single_hop"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    items = load_testset(path)
    assert [i.id for i in items] == ["line1", "line2"]
    assert items[0].reference == "She escaped at the age of 13 with her mother." and items[0].source == ""
    assert items[1].reference_contexts == () and items[1].answerable

    run = run_eval(assistant, items)
    first, second = run.results
    assert first.metrics["hit_at_k"] == 1.0  # evidence from any document when the file names no source
    assert second.metrics["hit_at_k"] is None and second.metrics["token_f1"] is not None


@pytest.mark.slow
def test_cli_eval_compare_and_fail_under(fresh_data_dir, small_testset, tmp_path):
    runner = CliRunner()
    base = ["eval", str(small_testset), "--data-dir", str(fresh_data_dir)]

    first = runner.invoke(app, [*base, "--out", str(tmp_path / "hybrid"), "--by-group"])
    assert first.exit_code == 0, first.output
    assert "evidence hit@k" in first.output and "6 items" in first.output
    assert "by question type" in first.output and "by turn" in first.output and "follow-up" in first.output
    assert (tmp_path / "hybrid" / "report.html").is_file()

    second = runner.invoke(app, [*base, "--mode", "bm25", "--limit", "4", "--out", str(tmp_path / "bm25"),
                                 "--compare", str(tmp_path / "hybrid"), "--fail-under", "pass_rate=1.01"])
    assert second.exit_code == 1, second.output
    assert "compared with" in second.output and "4 shared items" in second.output
    assert "pass -> fail:" in second.output and "fail -> pass:" in second.output
    assert "quality gate: pass_rate" in second.output
    assert len((tmp_path / "bm25" / "results.jsonl").read_text().splitlines()) == 4


def test_cli_rejects_a_bad_gate_before_running(tmp_path, small_testset):
    result = CliRunner().invoke(app, ["eval", str(small_testset), "--data-dir", str(tmp_path / "none"), "--fail-under", "speed=1"])
    assert isinstance(result.exception, InputError)
    assert "unknown metric 'speed'" in str(result.exception) and "\n" not in str(result.exception)
    assert not (tmp_path / "none").exists()


def test_cli_compare_with_a_missing_run_is_an_error(tmp_path, small_testset):
    from passage.errors import NotFoundError

    result = CliRunner().invoke(app, ["eval", str(small_testset), "--compare", str(tmp_path / "nope")])
    assert isinstance(result.exception, NotFoundError)
