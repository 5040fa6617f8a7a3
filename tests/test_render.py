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


def test_tables_by_group_fit_80_columns_with_every_figure_whole():
    from types import SimpleNamespace

    from rich.console import Console

    from app.eval_render import groups_tables
    from rag.evaluation.breakdown import Group

    groups = (Group("document", "universal-declaration-of-human-rights", 11, 8, 0.818, 1.0, 0.75, 0.625, 0.125, 0.667),
              Group("document", "iccpr", 112, 90, 0.6444, 0.9, None, 0.5, 0.0, None))
    console = Console(width=80, record=True)
    for table in groups_tables(SimpleNamespace(groups=groups)):
        console.print(table)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line.split() for line in lines if line.lstrip().startswith(("universal", "iccpr"))]
    assert rows == [["universal-declaration-of-…", "11", "0.818", "1.000", "0.750", "0.625", "0.125", "0.667"],
                    ["iccpr", "112", "0.644", "0.900", "–", "0.500", "0.000", "–"]]
