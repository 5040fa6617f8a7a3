"""`passage train-reader` end to end on a tiny plan: a few dozen SQuAD questions and a dozen
labelled items; it writes a model folder that the reader then loads and answers with."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from passage.settings import Settings
from tests import cli_driver

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _tiny_squad(path: Path) -> Path:
    paragraphs = [
        ("Yeonmi Park escaped North Korea at the age of 13. She crossed into China with her mother in 2007. "
         "Later she moved to South Korea.", [("How old was Yeonmi Park when she escaped?", "13"),
                                              ("Where did she cross into?", "China"),
                                              ("When did she cross into China?", "2007")]),
        ("The Tumen River forms the border with China. It freezes in winter. Guards patrol its banks.",
         [("Which river forms the border with China?", "The Tumen River"), ("When does the river freeze?", "winter"),
          ("Who patrols the banks?", "Guards")]),
    ]
    data = {"version": "1.1", "data": [{"title": "Escape", "paragraphs": [
        {"context": ctx, "qas": [{"id": f"t{i}{j}", "question": q, "answers": [{"text": a, "answer_start": ctx.index(a)}]}
                                 for j, (q, a) in enumerate(qas)]} for i, (ctx, qas) in enumerate(paragraphs)]}]}
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    return path


def _tiny_testset(path: Path) -> Path:
    items = [json.loads(line) for line in (ROOT / "corpus" / "testset.jsonl").read_text().splitlines() if line.strip()]
    dev = [i for i in items if i["split"] == "dev" and not i["history"]]
    answerable = [i for i in dev if i["answerable"]][:9]
    unanswerable = [i for i in dev if not i["answerable"]][:6]
    path.write_text("".join(json.dumps(i) + "\n" for i in answerable + unanswerable))
    return path


def test_train_reader_writes_a_model_the_reader_loads_and_answers_with(tmp_path, ingested_dir, embedder):
    squad, testset = _tiny_squad(tmp_path / "squad.json.gz"), _tiny_testset(tmp_path / "testset.jsonl")
    out, work = tmp_path / "model", tmp_path / "work"
    done = cli_driver.run("train-reader", str(testset), "--squad", str(squad), "--n-squad", "6", "--n-shifts", "0",
                          "--n-qed", "0", "--out", str(out), "--work", str(work), "--data-dir", str(ingested_dir),
                          "--keep", "6", timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "training on 6 questions" in done.stdout
    assert f"wrote {out}" in done.stdout.splitlines()[-1]
    stamp = json.loads((out / "reader.json").read_text())
    assert stamp["calibration"]["keep"] == 6 and stamp["onnx"] == "reader-int8.onnx"
    assert (work / "checkpoint.pt").exists()

    from app.wiring import build_assistant
    from rag.reader import build_reader
    from rag.reader.answerer import ReaderAnswerer

    assistant = build_assistant(Settings(data_dir=ingested_dir), embedder)
    reader = build_reader(embedder, assistant.retriever, tmp_path / "s.sqlite", model_folder=out)
    assert reader.scorer.stamp.version == stamp["version"]
    retrieval = assistant.retriever.search("How old was Yeonmi Park when she escaped?", 5)
    answer = ReaderAnswerer(reader).answer("How old was Yeonmi Park when she escaped?", retrieval)
    assert answer.answerer == "reader" and 0.0 <= answer.answerability <= 1.0

    again = cli_driver.run("train-reader", str(testset), "--squad", str(squad), "--n-squad", "6", "--n-shifts", "0",
                           "--n-qed", "0", "--out", str(out), "--work", str(work), "--data-dir", str(ingested_dir),
                           "--keep", "6", timeout=900)
    assert again.returncode == 0, again.stderr
    assert "step" not in again.stdout  # the finished checkpoint is resumed: nothing is trained again


def test_train_reader_without_its_data_is_one_line(tmp_path, ingested_dir):
    done = cli_driver.run("train-reader", "--squad", str(tmp_path / "missing.json"), "--n-shifts", "0", "--n-qed", "0",
                          "--data-dir", str(ingested_dir), "--out", str(tmp_path / "m"), timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [f"error: no squad file at {tmp_path / 'missing.json'}; pass --squad PATH, or --n-squad 0 to train without it"]
