import json

from app.export import Turn, quote, to_json, to_markdown
from app.render import answer_json
from passage.models import Answer, AnswerSentence, Chunk, Citation, Passage

ESCAPE = Chunk("c1", "leaving-north-korea", "Leaving North Korea", "Leaving North Korea > Escape",
               "Yeonmi Park escaped at 13. She crossed the Gobi Desert.", 10, 64, None, 12, "")
ARTICLE = Chunk("c2", "udhr", "Universal Declaration of Human Rights", "Article 13",
                "Everyone has the right to leave any country,\nincluding his own.", 500, 562, None, 14, "")


def cited() -> Answer:
    return Answer("How old was she?", "Yeonmi Park escaped at 13. [1] Everyone may leave. [2]", False,
                  (Citation(1, Passage(ESCAPE, 0.8), ("Yeonmi Park escaped at 13.",)), Citation(2, Passage(ARTICLE, 0.5))),
                  (Passage(ESCAPE, 0.8), Passage(ARTICLE, 0.5)), timings_ms={"total": 12.0})


def abstained() -> Answer:
    return Answer("What is the capital of France?", "The documents do not answer this.", True, (), (Passage(ARTICLE, 0.1),))


def test_markdown_has_questions_answers_and_numbered_sources_with_quotes():
    turns = [Turn("How old  was\nshe?", cited()), Turn("What is the capital of France?", abstained()),
             Turn("Who wrote it?", error="cannot open the Chroma store at http://127.0.0.1:8000")]
    assert to_markdown(turns) == """# Conversation with passage

## How old was she?

Yeonmi Park escaped at 13. [1] Everyone may leave. [2]

Sources:

[1] Leaving North Korea > Escape (leaving-north-korea, characters 10-64)

> Yeonmi Park escaped at 13.

[2] Universal Declaration of Human Rights > Article 13 (udhr, characters 500-562)

> Everyone has the right to leave any country,
> including his own.

## What is the capital of France?

The documents do not answer this.

Related passages:
- Universal Declaration of Human Rights > Article 13 (udhr, characters 500-562)

## Who wrote it?

Error: cannot open the Chroma store at http://127.0.0.1:8000
"""


def test_markdown_keeps_notes_and_unsupported_sentences():
    answer = Answer("Q?", "A. [1] B. [1]", False, (Citation(1, Passage(ESCAPE, 0.8), ("A.",)),), (Passage(ESCAPE, 0.8),),
                    (AnswerSentence("A.", (1,), True), AnswerSentence("B.", (1,), False)), answerer="llm",
                    notice="LLM unavailable (cannot reach x); showing the extractive answer")
    assert to_markdown([Turn("Q?", answer)]).split("\n\n")[2:5] == [
        "A. [1] B. [1]", "Note: LLM unavailable (cannot reach x); showing the extractive answer",
        "Not supported by the cited passages:\n- B."]


def test_json_is_the_ask_json_objects_in_order():
    turns = [Turn("How old was she?", cited()), Turn("?", error="bad")]
    assert json.loads(to_json(turns)) == [answer_json(cited()), {"question": "?", "error": "bad"}]
    assert to_json([]) == "[]\n"


def test_quote():
    assert quote("  one\n\ntwo  \n") == "> one\n>\n> two"


def test_chat_messages_become_turns():
    from ui.chat_export import turns

    messages = [{"role": "user", "text": "How old was she?"}, {"role": "assistant", "answer": cited()},
                {"role": "user", "text": "Who wrote it?"}, {"role": "assistant", "error": "the store is down"},
                {"role": "user", "text": "Still asking"}]  # no reply yet: not exported
    assert turns(messages) == [Turn("How old was she?", cited()), Turn("Who wrote it?", error="the store is down")]
    assert turns([]) == []
