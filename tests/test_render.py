from passage.models import Answer, AnswerSentence, Chunk, Citation, Passage
from app.render import answer_json, answer_text

CHUNK = Chunk("c1", "leaving-north-korea", "Leaving North Korea", "Leaving North Korea > Escape", "She was 13.", 10, 21, None, 6, "")
PASSAGE = Passage(CHUNK, 0.5)


def _answer(sentences=(), abstained=False):
    citations = () if abstained else (Citation(1, PASSAGE, ("She was 13.",)),)
    return Answer("How old?", "She was 13. [1]", abstained, citations, (PASSAGE,), tuple(sentences),
                  {"retrieve": 1.0, "answer": 2.0, "total": 3.0})


def test_plain_text_lists_sources_without_repeating_the_title():
    assert answer_text(_answer()) == "She was 13. [1]\n\nSources:\n  [1] Leaving North Korea > Escape"


def test_plain_text_marks_unsupported_sentences():
    sentences = [AnswerSentence("She was 13.", (1,), True), AnswerSentence("She flew.", (1,), False)]
    assert "not supported by the cited passages:\n  ! She flew." in answer_text(_answer(sentences))


def test_json_contract_fields():
    data = answer_json(_answer())
    assert data["citations"] == [{"n": 1, "source": "leaving-north-korea", "title": "Leaving North Korea",
                                  "section": "Leaving North Korea > Escape", "text": "She was 13.", "start": 10,
                                  "end": 21, "score": 0.5, "quotes": ["She was 13."]}]
    assert data["retrieved"][0] == {k: v for k, v in data["citations"][0].items() if k not in ("n", "quotes")}
    assert data["timings_ms"] == {"retrieve": 1.0, "answer": 2.0, "total": 3.0}
