"""A run on disk: results.jsonl (one item per line), summary.json and report.html.

results.jsonl rows load in RAGAS as they are (`EvaluationDataset.from_jsonl`): the fields
user_input, retrieved_contexts, response, reference and reference_contexts carry the
question, the retrieved passage texts, the answer and the gold; RAGAS ignores the rest
(id, history, retrieved/citations metadata, passed, latency_ms and one key per metric).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from passage.errors import InputError, NotFoundError

from .report import build_report
from .runner import ITEM_METRICS, EvalRun, ItemResult, PassageRecord, RunConfig, Summary
from .testset import EvalItem

RESULTS, SUMMARY, REPORT = "results.jsonl", "summary.json", "report.html"


def write_run(folder: Path | str, run: EvalRun, summary: Summary) -> Path:
    """Write the three files into `folder` (created if missing); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / RESULTS).open("w", encoding="utf-8") as out:
        for result in run.results:
            out.write(json.dumps(result_json(result), ensure_ascii=False) + "\n")
    (folder / SUMMARY).write_text(json.dumps(summary_json(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / REPORT).write_text(build_report(run, summary), encoding="utf-8")
    return folder


def result_json(r: ItemResult) -> dict:
    item = r.item
    return {
        "id": item.id,
        "user_input": item.question,
        "retrieved_contexts": [p.text for p in r.retrieved],
        "response": r.answer,
        "reference": item.reference,
        "reference_contexts": list(item.reference_contexts),
        "history": list(item.history),
        "source": item.source,
        "section": item.section,
        "answerable": item.answerable,
        "abstained": r.abstained,
        "passed": r.passed,
        "query": r.query,
        "answerer": r.answered_by,
        "latency_ms": r.latency_ms,
        "confidence": r.confidence,
        "answerability": r.answerability,
        "split": item.split,
        "facts": list(item.facts),
        "facts_all": list(item.facts_all),
        "qtype": item.qtype,
        "unanswerable_kind": item.kind,
        "retrieved": [{"rank": n, **_passage(p, with_text=False)} for n, p in enumerate(r.retrieved, start=1)],
        "citations": [_passage(p) for p in r.citations],
        **{name: r.metrics.get(name) for name in ITEM_METRICS},
    }


def summary_json(s: Summary) -> dict:
    return {
        "config": asdict(s.config),
        "items": s.items, "answerable": s.answerable, "unanswerable": s.unanswerable, "passed": s.passed,
        "bootstrap": {"method": "percentile; items resampled with replacement", "resamples": s.resamples,
                      "seed": s.seed, "confidence": s.confidence},
        "metrics": {x.name: {"group": x.group, "label": x.label, "value": x.value, "ci_low": x.low, "ci_high": x.high,
                             "n": x.n, "higher_is_better": x.higher_is_better} for x in s.metrics},
        "notes": list(s.notes),
        "groups": [asdict(g) for g in s.groups],
    }


def load_run(folder: Path | str) -> EvalRun:
    """The run saved in `folder`, for comparison; NotFoundError when there is none."""
    folder = Path(folder)
    path = folder / RESULTS
    if not path.is_file():
        raise NotFoundError(f"no eval run in {folder} ({RESULTS} is missing)")
    results = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                results.append(_result(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(f"{path}:{number}: not a result row ({exc})") from None
    config = RunConfig(str(folder), 0, "", "", "")
    if (folder / SUMMARY).is_file():
        try:
            config = RunConfig(**json.loads((folder / SUMMARY).read_text(encoding="utf-8"))["config"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{folder / SUMMARY}: unreadable ({exc})") from None
    return EvalRun(config, tuple(results))


def _passage(p: PassageRecord, with_text: bool = True) -> dict:
    data = {"source": p.source, "section": p.section, "score": p.score, "evidence": p.evidence, "cited": p.cited}
    return {**data, "text": p.text} if with_text else data


def _result(row: dict) -> ItemResult:
    item = EvalItem(id=str(row["id"]), question=row["user_input"], reference=row.get("reference") or "",
                    reference_contexts=tuple(row.get("reference_contexts") or ()), source=row.get("source") or "",
                    section=row.get("section") or "", answerable=bool(row.get("answerable", True)),
                    history=tuple(row.get("history") or ()), split=row.get("split") or "",
                    facts=tuple(row.get("facts") or ()), facts_all=tuple(row.get("facts_all") or ()),
                    qtype=row.get("qtype") or "", kind=row.get("unanswerable_kind") or "")
    texts = row.get("retrieved_contexts") or []
    retrieved = tuple(PassageRecord(p["source"], p["section"], text, p["score"], p["evidence"], p.get("cited"))
                      for p, text in zip(row.get("retrieved") or [], texts))
    citations = tuple(PassageRecord(p["source"], p["section"], p.get("text", ""), p["score"], p["evidence"], p.get("cited"))
                      for p in row.get("citations") or [])
    return ItemResult(item, row.get("response") or "", bool(row["abstained"]), retrieved, citations,
                      {name: row.get(name) for name in ITEM_METRICS}, float(row["latency_ms"]), bool(row["passed"]),
                      row.get("query") or "", row.get("answerer") or "", row.get("confidence"), row.get("answerability"))
