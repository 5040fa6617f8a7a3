"""The documents and evaluation pages through Streamlit's AppTest, on a copy of the ingested corpus."""
from __future__ import annotations

import json
import re

import pytest

from passage.settings import Settings
from rag.evaluation.sample import mix, stratified_sample
from rag.evaluation.testset import load_testset
from tests.pages import ROOT, answers, app, ask, unescape_md

pytestmark = pytest.mark.slow


# --- documents --------------------------------------------------------------------------------

def test_documents_page_lists_the_library(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 7
    assert list(table.columns) == ["Title", "Source", "Type", "Sections", "Chunks", "Added"]
    assert "leaving-north-korea" in set(table["Source"])
    assert table.set_index("Source").loc["leaving-north-korea", "Sections"] == 8


def test_upload_is_answerable_at_once_and_bad_files_are_refused(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    uploader = at.file_uploader[0]
    uploader.upload("../../Zorblat Treaty.md", b"# Zorblat Treaty\n\nThe Zorblat Treaty of 1999 guarantees free passage for kumquat farmers.\n", "text/markdown")
    uploader.upload("payload.exe", b"MZ\x90\x00", "application/octet-stream")
    uploader.upload("iccpr.txt", b"An impostor that wants the name of the covenant.", "text/plain")
    uploader.upload("fake.pdf", b"not a pdf at all", "application/pdf")
    next(b for b in at.button if b.label == "Add to the library").click().run()
    assert not at.exception
    errors = [unescape_md(e.value) for e in at.error]
    assert errors == [
        "payload.exe: unsupported file type '.exe'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx",
        "iccpr.txt: a document named 'iccpr' already exists (from iccpr.md); rename the file or remove that document first",
        "fake.pdf: the content is not a PDF file",
    ]
    assert [unescape_md(s.value) for s in at.success] == [
        "Zorblat-Treaty.md: added as **Zorblat-Treaty** (1 chunk); you can ask about it now."]
    assert len(at.dataframe[0].value) == 8
    stored = Settings(data_dir=fresh_data_dir).uploads_dir
    assert sorted(p.name for p in stored.iterdir()) == ["Zorblat-Treaty.md"]

    at.switch_page("views/chat.py").run()
    ask(at, "What does the Zorblat Treaty guarantee?")
    (answer,) = answers(at)
    assert not answer.abstained and answer.citations[0].passage.chunk.source == "Zorblat-Treaty"


def test_remove_a_document(fresh_data_dir, monkeypatch):
    from ingest.store import open_store

    chunks = next(len(r.chunk_ids) for r in open_store(Settings(data_dir=fresh_data_dir)).records() if r.source == "iccpr")
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    at.selectbox(key="remove_source").set_value("iccpr")
    next(b for b in at.button if b.label == "Remove").click().run()
    assert not at.exception
    assert [unescape_md(s.value) for s in at.success] == [f"Removed iccpr ({chunks} chunks)."]
    assert "iccpr" not in set(at.dataframe[0].value["Source"])
    assert len(at.dataframe[0].value) == 6


# --- evaluation -------------------------------------------------------------------------------

def test_evaluation_runs_shows_scores_and_compares_runs(fresh_data_dir, monkeypatch, tmp_path):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/evaluation.py").run()
    assert not at.exception
    at.number_input(key="eval_limit").set_value(3).run()
    next(b for b in at.button if b.label.startswith("Run 3 questions")).click().run()
    assert not at.exception
    # the test split's mix, not its first three items (all answerable)
    sample = stratified_sample(load_testset(ROOT / "corpus" / "testset.jsonl", "test"), 3)
    assert mix(sample) == {"answerable": 1, "unanswerable": 1, "follow-up": 1}
    answerable = sum(i.answerable for i in sample)
    assert re.match(rf"\d of 3 passed \({answerable} answerable, {3 - answerable} unanswerable\)", at.success[0].value)
    assert [m.label for m in at.metric] == ["pass rate", "evidence hit@k", "citation recall", "abstention F1"]
    summary = at.dataframe[0].value
    assert {"evidence hit@k", "latency p95 (ms) ↓", "pass rate"} <= set(summary["Metric"])
    assert {"95% CI low", "95% CI high"} <= set(summary.columns)
    runs = list((tmp_path / "runs").iterdir())  # tests run in tmp_path
    assert len(runs) == 1 and (runs[0] / "results.jsonl").is_file()

    tiny = tmp_path / "tiny.jsonl"
    rows = [json.loads(line) for line in (ROOT / "corpus" / "testset.jsonl").read_text().splitlines()[:2]]
    rows.append({"id": "x-france", "question": "What is the capital of France?", "answerable": False})
    tiny.write_text("\n".join(json.dumps(r) for r in rows))
    at.radio(key="eval_source").set_value("upload").run()
    at.segmented_control(key="eval_split").set_value("all").run()  # the file has splits: every item, whatever its split
    at.file_uploader(key="eval_upload").upload("tiny.jsonl", tiny.read_bytes(), "application/json")
    at.run()
    next(b for b in at.button if b.label.startswith("Run 3 questions")).click().run()
    assert not at.exception
    questions = next(d.value for d in at.dataframe if "question" in d.value.columns and "passed" in d.value.columns)
    assert list(questions["id"]) == [r.get("id") for r in rows]
    at.toggle(key="eval_failed_only").set_value(True).run()
    failed = next(d.value for d in at.dataframe if "question" in d.value.columns and "passed" in d.value.columns)
    assert not failed["passed"].any()
    deltas = next(d.value for d in at.dataframe if "Verdict" in d.value.columns)
    assert "evidence hit@k" in set(deltas["Metric"])
    assert at.selectbox(key="eval_baseline").value.name == runs[0].name
