"""Run a test set through the assistant the chat uses, score each item, and summarise.

Usage: `summarize(run_eval(build_assistant(settings), load_testset("corpus/testset.jsonl")))`.

An item passes when:
- unanswerable: the assistant abstained;
- answerable with reference quotes: an evidence passage is in the top k, the assistant answered,
  and its citations include an evidence passage;
- answerable without quotes (nothing to check evidence against): the assistant answered.
Evidence is matched (metrics.holds) against a passage's heading prefix plus its text, as the
retriever embeds it, so a quote that is a heading counts. Answer metrics of an answerable item
the assistant abstained on are 0 (it said nothing); retrieval and citation metrics of items
without quotes are undefined and left out of means.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping, Sequence

from ingest.sentences import sentence_spans
from passage.models import Answer, AnswerSentence, Passage, section_label
from rag.citations import markers, strip_markers

from . import metrics as m
from .bootstrap import CONFIDENCE, RESAMPLES, SEED, Interval, bootstrap_ci
from .breakdown import Group, breakdown
from .testset import EvalItem

ITEM_METRICS = ("hit_at_k", "reciprocal_rank", "ndcg_at_k", "context_recall", "citation_precision",
                "citation_recall", "fact_stated", "evidence_quoted", "token_f1", "token_recall",
                "semantic_similarity", "groundedness")
LLM_JUDGED_NOTE = "LLM-judged metrics (faithfulness, answer relevancy) are not computed: no LLM judge is implemented."


@dataclass(frozen=True)
class PassageRecord:
    """A retrieved or cited passage as the run saw it; `cited` is its answer marker [n], if any."""

    source: str
    section: str
    text: str
    score: float
    evidence: bool
    cited: int | None = None


@dataclass(frozen=True)
class ItemResult:
    item: EvalItem
    answer: str
    abstained: bool
    retrieved: tuple[PassageRecord, ...]
    citations: tuple[PassageRecord, ...]
    metrics: Mapping[str, float | None]
    latency_ms: float
    passed: bool
    query: str = ""
    answered_by: str = ""
    confidence: float | None = None
    answerability: float | None = None


@dataclass(frozen=True)
class RunConfig:
    testset: str
    k: int
    mode: str
    answerer: str
    started_at: str


@dataclass(frozen=True)
class EvalRun:
    config: RunConfig
    results: tuple[ItemResult, ...]


def run_eval(assistant, items: Sequence[EvalItem], *, k: int | None = None, mode: str | None = None,
             answerer: str | None = None, progress: Callable[[int, int], None] | None = None,
             testset: str = "") -> EvalRun:
    """Ask every item (follow-ups with their history) and score the answers."""
    settings = assistant.settings
    config = RunConfig(testset, k or settings.k, mode or settings.mode, answerer or settings.answerer,
                       datetime.now(timezone.utc).isoformat(timespec="seconds"))
    answers: list[tuple[Answer, float]] = []
    for done, item in enumerate(items, start=1):
        began = time.perf_counter()
        answer = assistant.ask(item.question, item.history, k=config.k, mode=config.mode, answerer=config.answerer)
        answers.append((answer, round((time.perf_counter() - began) * 1000, 1)))
        if progress:
            progress(done, len(items))
    similarities = _similarities(assistant.retriever.embedder, items, [a for a, _ in answers])
    results = tuple(score_item(item, answer, latency, sim, config.k)
                    for item, (answer, latency), sim in zip(items, answers, similarities))
    return EvalRun(config, results)


def score_item(item: EvalItem, answer: Answer, latency_ms: float, similarity: float | None, k: int) -> ItemResult:
    """Every per-item metric of one answer; `similarity` is answer-reference cosine (None if unknown)."""
    quotes = item.reference_contexts
    held = m.evidence_held([(p.chunk.source, p.chunk.embed_text) for p in answer.retrieved], quotes, item.source)
    cited_ids = {c.passage.chunk.id: c.n for c in answer.citations}
    retrieved = tuple(_record(p, bool(h), cited_ids.get(p.chunk.id)) for p, h in zip(answer.retrieved, held))
    unique = list({c.passage.chunk.id: c for c in answer.citations}.values())
    cited_evidence = [bool(m.evidence_held([(c.passage.chunk.source, c.passage.chunk.embed_text)], quotes, item.source)[0])
                      for c in unique]
    citations = tuple(_record(c.passage, e, c.n) for c, e in zip(unique, cited_evidence))
    has_gold = item.answerable and bool(quotes)
    prediction = "" if answer.abstained else strip_markers(answer.text)
    scores: dict[str, float | None] = {
        "hit_at_k": m.hit_at_k(held, k) if has_gold else None,
        "reciprocal_rank": m.reciprocal_rank(held[:k]) if has_gold else None,
        "ndcg_at_k": m.ndcg_at_k(held, len(quotes), k) if has_gold else None,
        "context_recall": m.context_recall(held, len(quotes), k) if has_gold else None,
        "citation_precision": m.citation_precision(cited_evidence) if has_gold and not answer.abstained else None,
        "citation_recall": m.citation_recall(cited_evidence) if has_gold and not answer.abstained else None,
        "fact_stated": (m.fact_stated(prediction, item.facts, item.facts_all) if item.answerable else None),
        "evidence_quoted": m.evidence_quoted(prediction, quotes) if has_gold else None,
        "token_f1": m.token_f1(prediction, item.reference) if item.answerable else None,
        "token_recall": m.token_recall(prediction, item.reference) if item.answerable else None,
        "semantic_similarity": _similarity(item, answer, similarity),
        "groundedness": None if answer.abstained else m.groundedness(support_flags(answer)),
    }
    return ItemResult(item, answer.text, answer.abstained, retrieved, citations, scores, latency_ms,
                      passed(item, answer.abstained, scores), answer.query, answer.answerer, answer.confidence,
                      answer.answerability)


def passed(item: EvalItem, abstained: bool, scores: Mapping[str, float | None]) -> bool:
    if not item.answerable:
        return abstained
    if not item.reference_contexts:
        return not abstained
    return not abstained and scores["hit_at_k"] == 1.0 and scores["citation_recall"] == 1.0


def support_flags(answer: Answer) -> list[bool]:
    """Per answer sentence: its own `supported` flag when the answerer set one, else whether the
    sentence appears (exactly or fuzzily, see metrics.holds) in a passage it cites, or in any
    cited passage when it carries no marker."""
    cited = {c.n: c.passage.chunk.text for c in answer.citations}
    sentences = answer.sentences or tuple(
        AnswerSentence(answer.text[a:b], tuple(markers(answer.text[a:b]))) for a, b in sentence_spans(answer.text))
    flags = []
    for s in sentences:
        if s.supported is not None:
            flags.append(bool(s.supported))
        else:
            texts = [cited[n] for n in s.markers if n in cited] or list(cited.values())
            flags.append(m.sentence_supported(s.text, texts))
    return flags


def _similarity(item: EvalItem, answer: Answer, similarity: float | None) -> float | None:
    if not item.answerable or not item.reference:
        return None
    return 0.0 if answer.abstained else similarity


def _similarities(embedder, items: Sequence[EvalItem], answers: Sequence[Answer]) -> list[float | None]:
    """Answer-reference cosine with the retrieval embedding model, one batch for the whole run."""
    pairs = [(i, strip_markers(a.text), item.reference) for i, (item, a) in enumerate(zip(items, answers))
             if item.reference and not a.abstained and a.text.strip()]
    found: list[float | None] = [None] * len(items)
    if not pairs:
        return found
    vectors = embedder.embed([t for _, answer, ref in pairs for t in (answer, ref)])
    for n, (i, _, _) in enumerate(pairs):
        found[i] = m.cosine(vectors[2 * n], vectors[2 * n + 1])
    return found


def _record(p: Passage, evidence: bool, cited: int | None) -> PassageRecord:
    return PassageRecord(p.chunk.source, section_label(p.chunk.title, p.chunk.section), p.chunk.text,
                         round(float(p.score), 6), evidence, cited)


# --- summary -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Aggregate:
    """How one summary number is computed from the item results (and bootstrapped)."""

    name: str
    group: str
    label: str
    statistic: Callable[[Sequence[ItemResult]], float | None]
    key: str | None = None
    higher_is_better: bool = True


def _mean_of(key: str):
    return lambda results: m.mean([r.metrics.get(key) for r in results])


def _abstention(field: str):
    return lambda results: getattr(m.abstention_scores([r.item.answerable for r in results],
                                                       [r.abstained for r in results]), field)


def _latency(q: float):
    return lambda results: m.percentile([r.latency_ms for r in results], q)


AGGREGATES: tuple[Aggregate, ...] = (
    Aggregate("hit_at_k", "retrieval", "evidence hit@k", _mean_of("hit_at_k"), "hit_at_k"),
    Aggregate("mrr", "retrieval", "MRR", _mean_of("reciprocal_rank"), "reciprocal_rank"),
    Aggregate("ndcg_at_k", "retrieval", "nDCG@k", _mean_of("ndcg_at_k"), "ndcg_at_k"),
    Aggregate("context_recall", "retrieval", "context recall", _mean_of("context_recall"), "context_recall"),
    Aggregate("citation_precision", "citations", "citation precision", _mean_of("citation_precision"), "citation_precision"),
    Aggregate("citation_recall", "citations", "citation recall", _mean_of("citation_recall"), "citation_recall"),
    Aggregate("fact_stated", "answers", "asked-for fact stated", _mean_of("fact_stated"), "fact_stated"),
    Aggregate("evidence_quoted", "answers", "evidence quoted", _mean_of("evidence_quoted"), "evidence_quoted"),
    Aggregate("token_f1", "answers", "token F1", _mean_of("token_f1"), "token_f1"),
    Aggregate("token_recall", "answers", "token recall", _mean_of("token_recall"), "token_recall"),
    Aggregate("semantic_similarity", "answers", "semantic similarity", _mean_of("semantic_similarity"), "semantic_similarity"),
    Aggregate("groundedness", "answers", "groundedness", _mean_of("groundedness"), "groundedness"),
    Aggregate("abstention_precision", "abstention", "abstention precision", _abstention("precision")),
    Aggregate("abstention_recall", "abstention", "abstention recall", _abstention("recall")),
    Aggregate("abstention_f1", "abstention", "abstention F1", _abstention("f1")),
    Aggregate("false_abstention_rate", "abstention", "false abstentions",
              _abstention("false_abstention_rate"), higher_is_better=False),
    Aggregate("latency_p50_ms", "latency", "latency p50 (ms)", _latency(50), higher_is_better=False),
    Aggregate("latency_p95_ms", "latency", "latency p95 (ms)", _latency(95), higher_is_better=False),
    Aggregate("pass_rate", "overall", "pass rate", lambda rs: sum(r.passed for r in rs) / len(rs) if rs else None),
)
AGGREGATE_NAMES = tuple(a.name for a in AGGREGATES)


@dataclass(frozen=True)
class MetricSummary:
    name: str
    group: str
    label: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    higher_is_better: bool = True


@dataclass(frozen=True)
class Summary:
    config: RunConfig
    items: int
    answerable: int
    unanswerable: int
    passed: int
    metrics: tuple[MetricSummary, ...]
    resamples: int = RESAMPLES
    seed: int = SEED
    confidence: float = CONFIDENCE
    notes: tuple[str, ...] = (LLM_JUDGED_NOTE,)
    groups: tuple[Group, ...] = ()  # the same run per question type, turn, unanswerable kind and document

    def metric(self, name: str) -> MetricSummary:
        return next(s for s in self.metrics if s.name == name)


def summarize(run: EvalRun, resamples: int = RESAMPLES, seed: int = SEED) -> Summary:
    """Every aggregate with its seeded 95% bootstrap interval (see bootstrap.py)."""
    results = run.results
    rows = []
    for agg in AGGREGATES:
        ci: Interval = bootstrap_ci(results, agg.statistic, resamples, seed)
        n = sum(r.metrics.get(agg.key) is not None for r in results) if agg.key else len(results)
        rows.append(MetricSummary(agg.name, agg.group, agg.label, ci.value, ci.low, ci.high, n, agg.higher_is_better))
    answerable = sum(r.item.answerable for r in results)
    return Summary(run.config, len(results), answerable, len(results) - answerable,
                   sum(r.passed for r in results), tuple(rows), resamples, seed, groups=tuple(breakdown(results)))
