"""The reader on the real corpus: the bundled test set, answers, confidence and retraining."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.render import answer_json
from rag.evaluation import load_testset
from rag.evaluation.metrics import normalize_text

ROOT = Path(__file__).resolve().parent.parent
TESTSET = ROOT / "corpus" / "testset.jsonl"


def test_bundled_test_set_is_large_split_and_grounded():
    rows = [json.loads(line) for line in TESTSET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 250
    assert sum(not r["answerable"] for r in rows) >= 60
    assert {r["split"] for r in rows} == {"dev", "test"}
    assert len(load_testset(TESTSET, "dev")) + len(load_testset(TESTSET, "test")) == len(rows)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").iterdir() if p.suffix in (".md", ".txt")}
    for r in rows:
        for quote in r.get("reference_contexts") or []:
            assert quote in texts[r["source"]], r["id"]
            facts = r.get("facts") or r.get("facts_all") or []
            assert r["answerable"] and facts, r["id"]
        for fact in r.get("facts") or r.get("facts_all") or []:
            assert any(normalize_text(fact) in normalize_text(q) for q in r["reference_contexts"]), r["id"]


def test_split_filter_and_files_without_splits(tmp_path):
    assert {i.split for i in load_testset(TESTSET, "test")} == {"test"}
    plain = tmp_path / "ragas.jsonl"
    plain.write_text('{"question": "Why?", "ground_truth": "Because."}\n', encoding="utf-8")
    assert len(load_testset(plain, "test")) == 1  # no splits in the file: evaluated whole
    from passage.errors import InputError

    with pytest.raises(InputError, match="choose one of: dev, test"):
        load_testset(TESTSET, "train")


@pytest.mark.slow
def test_reader_states_the_fact_and_reports_confidence(assistant):
    answer = assistant.ask("How old was Yeonmi Park when she escaped?", answerer="reader")
    assert not answer.abstained
    assert "13" in answer.text
    assert answer.citations and answer.citations[0].passage.chunk.source == "leaving-north-korea"
    data = answer_json(answer)
    assert 0.0 <= data["confidence"] <= 1.0 and 0.0 <= data["answerability"] <= 1.0
    assert data["answerer"] == "reader"
    assert len(data["retrieved"]) == 5


@pytest.mark.slow
def test_reader_follow_up_and_off_topic(assistant):
    follow = assistant.ask("How old was she when she got out?", ["Tell me about Yeonmi Park."], answerer="reader")
    assert "13" in follow.text
    off = assistant.ask("Who won the 2022 FIFA World Cup?", answerer="reader")
    assert off.abstained and off.retrieved and not off.citations


@pytest.mark.slow
def test_reader_abstains_when_no_question_word_occurs_in_the_documents(assistant):
    answer = assistant.ask("북한의 수도는 어디입니까?", answerer="reader")
    assert answer.abstained and answer.confidence == 0.0 and answer.answerability == 0.0


@pytest.mark.slow
def test_reader_abstains_on_a_name_no_document_mentions(assistant):
    answer = assistant.ask("What is the capital of France?", answerer="reader")
    assert answer.abstained and answer.answerability == 0.0
    known = assistant.ask("Which article of the ICCPR protects freedom of movement?", answerer="reader")
    assert known.answerability > 0.0  # an acronym the documents spell out is no unknown name


@pytest.mark.slow
def test_a_follow_ups_carried_words_weigh_less_than_its_own(assistant):
    from rag.reader.reader import CARRIED

    reader = assistant.answerer("reader").reader
    query = "How old was she when she got out? Yeonmi Park"
    retrieval = assistant.retriever.search(query, 5, "hybrid")
    alone = reader.inputs(query, retrieval).wanted  # asked as it stands: every word at its IDF
    follow = reader.inputs("How old was she when she got out?", retrieval).wanted
    assert set(alone) == set(follow) and {"yeonmi", "park", "old"} <= set(alone)
    assert follow["yeonmi"] == pytest.approx(CARRIED * alone["yeonmi"]) and follow["old"] == alone["old"]
