"""Answers as the CLI shows them: plain text, or the stable JSON contract other tools read."""
from __future__ import annotations

from passage.models import Answer, AnswerSentence, Chunk, Citation, DocumentRecord, Passage, section_label


def passage_json(p: Passage) -> dict:
    c = p.chunk
    return {"source": c.source, "title": c.title, "section": c.section, "text": c.text,
            "start": c.start, "end": c.end, "score": round(float(p.score), 6)}


def answer_json(answer: Answer) -> dict:
    """`{"question", "answer", "abstained", "citations", "retrieved", "timings_ms"}` plus extras."""
    data = {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "citations": [{"n": c.n, **passage_json(c.passage), "quotes": list(c.quotes)} for c in answer.citations],
        "retrieved": [passage_json(p) for p in answer.retrieved],
        "timings_ms": dict(answer.timings_ms),
        "answerer": answer.answerer,
        "sentences": [{"text": s.text, "markers": list(s.markers), "supported": s.supported} for s in answer.sentences],
        "groundedness": answer.groundedness,
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "answerability": None if answer.answerability is None else round(answer.answerability, 4),
    }
    if answer.notice:
        data["notice"] = answer.notice
    return data


def record_json(r: DocumentRecord) -> dict:
    """One document as `passage docs list --json` and `GET /documents` show it."""
    return {"source": r.source, "title": r.title, "kind": r.kind, "sections": r.sections,
            "chunks": len(r.chunk_ids), "added_at": r.added_at, "path": r.path}


def answer_text(answer: Answer, with_body: bool = True) -> str:
    lines = [answer.text] if with_body else []
    if answer.notice:
        lines.append(f"note: {answer.notice}")
    unsupported = [s.text for s in answer.sentences if s.supported is False]
    if unsupported:
        lines.append("not supported by the cited passages:")
        lines += [f"  ! {text}" for text in unsupported]
    if answer.abstained:
        lines.append("\nRelated passages:")
        lines += [f"  - {section_label(p.chunk.title, p.chunk.section)}" for p in answer.retrieved]
    elif answer.citations:
        lines.append("\nSources:")
        lines += [f"  [{c.n}] {section_label(c.passage.chunk.title, c.passage.chunk.section)}" for c in answer.citations]
    return "\n".join(lines)


def answer_from_json(data: dict) -> Answer:
    """The `Answer` an `answer_json` object describes, as far as it tells: enough to show and export it again.

    Chunk ids, pages, token counts and the query are not in the object; they come back empty.
    `answer_from_json(answer_json(a)).text == a.text`.
    """
    def passage(p: dict) -> Passage:
        chunk = Chunk("", p["source"], p["title"], p["section"], p["text"], p["start"], p["end"], None, 0, "")
        return Passage(chunk, p["score"])

    return Answer(
        question=data["question"],
        text=data["answer"],
        abstained=data["abstained"],
        citations=tuple(Citation(c["n"], passage(c), tuple(c.get("quotes", ()))) for c in data.get("citations", ())),
        retrieved=tuple(passage(p) for p in data.get("retrieved", ())),
        sentences=tuple(AnswerSentence(s["text"], tuple(s["markers"]), s.get("supported")) for s in data.get("sentences", ())),
        timings_ms=dict(data.get("timings_ms", {})),
        answerer=data.get("answerer", "extractive"),
        groundedness=data.get("groundedness"),
        notice=data.get("notice", ""),
        confidence=data.get("confidence"),
        answerability=data.get("answerability"),
    )
