import json
from datetime import datetime, timezone

from app.conversations import Conversation, Turn
from app.export import quote, settings_lines, to_json, to_markdown
from app.render import answer_json
from passage.models import Answer, AnswerSentence, Chunk, Citation, Passage

ESCAPE = Chunk("c1", "leaving-north-korea", "Leaving North Korea", "Leaving North Korea > Escape",
               "Yeonmi Park escaped at 13. She crossed the Gobi Desert.", 10, 64, None, 12, "")
ARTICLE = Chunk("c2", "udhr", "Universal Declaration of Human Rights", "Article 13",
                "Everyone has the right to leave any country,\nincluding his own.", 500, 562, None, 14, "")
UTC = timezone.utc
ASKED = datetime(2025, 3, 1, 9, 30, 0, tzinfo=UTC)
EXPORTED = datetime(2025, 3, 2, 8, 0, 0, tzinfo=UTC)
SETTINGS = {"answerer": "reader", "k": 5, "mode": "hybrid", "reader_threshold": None}


def cited(confidence: float | None = 0.91) -> Answer:
    return Answer("How old was she?", "Yeonmi Park escaped at 13. [1] Everyone may leave. [2]", False,
                  (Citation(1, Passage(ESCAPE, 0.8), ("Yeonmi Park escaped at 13.",)), Citation(2, Passage(ARTICLE, 0.5))),
                  (Passage(ESCAPE, 0.8), Passage(ARTICLE, 0.5)), timings_ms={"total": 12.0}, answerer="reader",
                  confidence=confidence)


def abstained() -> Answer:
    return Answer("What is the capital of France?", "The documents do not answer this.", True, (), (Passage(ARTICLE, 0.1),),
                  answerer="reader", confidence=0.2)


def turn(question: str, answer: Answer | None = None, error: str = "", seconds: int = 0, settings=None,
         version: str = "0.1.0") -> Turn:
    asked = ASKED.replace(minute=30 + seconds // 60, second=seconds % 60)
    return Turn(question, asked, asked.replace(microsecond=800000), answer, error, version, settings or SETTINGS)


def conversation(*turns: Turn, title: str = "How old was she?") -> Conversation:
    return Conversation("0123456789abcdef0123456789abcdef", title, ASKED, turns[-1].answered_at if turns else ASKED,
                        len(turns), turns)


def test_markdown_has_facts_settings_questions_answers_and_numbered_sources():
    c = conversation(turn("How old  was\nshe?", cited()), turn("What is the capital of France?", abstained(), seconds=60),
                     turn("Who wrote it?", error="cannot open the Chroma store at http://127.0.0.1:8000", seconds=120))
    assert to_markdown(c, EXPORTED) == """# How old was she?

Exported 2025-03-02 08:00:00 UTC · passage 0.1.0 · 3 questions

Settings (answered with passage 0.1.0):
- answerer: reader
- k: 5
- mode: hybrid
- reader_threshold: unset

## How old was she?

Asked 2025-03-01 09:30:00 UTC · answered in 0.8 s · reader · confidence 91%

Yeonmi Park escaped at 13. [1] Everyone may leave. [2]

Sources:

[1] Leaving North Korea > Escape (leaving-north-korea, characters 10-64)

> Yeonmi Park escaped at 13.

[2] Universal Declaration of Human Rights > Article 13 (udhr, characters 500-562)

> Everyone has the right to leave any country,
> including his own.

## What is the capital of France?

Asked 2025-03-01 09:31:00 UTC · answered in 0.8 s · reader · **Abstained**: the documents do not answer this.

The documents do not answer this.

Related passages:
- Universal Declaration of Human Rights > Article 13 (udhr, characters 500-562)

## Who wrote it?

Asked 2025-03-01 09:32:00 UTC · answered in 0.8 s

Error: cannot open the Chroma store at http://127.0.0.1:8000
"""


def test_a_doubtful_answer_reads_as_doubtful_and_changed_settings_are_named():
    c = conversation(turn("How old was she?", cited()),
                     turn("And later?", cited(confidence=0.31), seconds=5, settings={**SETTINGS, "k": 3, "mode": "dense"},
                          version="0.2.0"))
    blocks = to_markdown(c, EXPORTED).split("\n\n")
    second = blocks.index("## And later?")
    assert blocks[second + 1] == "Settings changed: passage 0.2.0; k: 3; mode: dense"
    assert blocks[second + 2] == ("Asked 2025-03-01 09:30:05 UTC · answered in 0.8 s · reader · confidence 31% · "
                                  "**Low confidence**: the quoted sentence may not answer the question; check the sources.")


def test_markdown_keeps_notes_and_unsupported_sentences():
    answer = Answer("Q?", "A. [1] B. [1]", False, (Citation(1, Passage(ESCAPE, 0.8), ("A.",)),), (Passage(ESCAPE, 0.8),),
                    (AnswerSentence("A.", (1,), True), AnswerSentence("B.", (1,), False)), answerer="llm",
                    notice="LLM unavailable (cannot reach x); showing the extractive answer")
    blocks = to_markdown(conversation(turn("Q?", answer), title=""), EXPORTED).split("\n\n")
    assert blocks[0] == "# Conversation with passage"
    assert blocks[5:8] == ["A. [1] B. [1]", "Note: LLM unavailable (cannot reach x); showing the extractive answer",
                           "Not supported by the cited passages:\n- B."]


def test_json_holds_the_ask_json_objects_with_times_marks_version_and_settings():
    c = conversation(turn("How old was she?", cited(confidence=0.31)), turn("?", error="bad", seconds=1))
    data = json.loads(to_json(c, EXPORTED))
    assert {k: v for k, v in data.items() if k != "turns"} == {
        "id": "0123456789abcdef0123456789abcdef", "title": "How old was she?", "created_at": "2025-03-01T09:30:00Z",
        "updated_at": "2025-03-01T09:30:01Z", "exported_at": "2025-03-02T08:00:00Z", "version": "0.1.0"}
    extra = {"asked_at": "2025-03-01T09:30:00Z", "answered_at": "2025-03-01T09:30:00Z", "version": "0.1.0",
             "settings": SETTINGS}
    assert data["turns"] == [
        {**answer_json(cited(confidence=0.31)), **extra, "low_confidence": True},
        {"question": "?", "error": "bad", **extra, "asked_at": "2025-03-01T09:30:01Z",
         "answered_at": "2025-03-01T09:30:01Z", "low_confidence": False},
    ]
    assert data["turns"][0]["confidence"] == 0.31
    empty = json.loads(to_json(conversation(title=""), EXPORTED))
    assert (empty["title"], empty["turns"]) == ("", [])


def test_quote_and_settings_lines():
    assert quote("  one\n\ntwo  \n") == "> one\n>\n> two"
    assert settings_lines({"mode": "bm25", "k": 3, "source": None, "llm_condense": False}) == \
        "- k: 3\n- llm_condense: false\n- mode: bm25\n- source: unset"
