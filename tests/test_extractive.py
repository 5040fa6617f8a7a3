import re

import pytest

from passage.errors import InputError
from rag.citations import ABSTAIN_TEXT, markers

pytestmark = pytest.mark.slow


def _check_citations(answer):
    used = set(markers(answer.text))
    assert used == {c.n for c in answer.citations}
    for c in answer.citations:
        assert all(q in c.passage.chunk.text for q in c.quotes)
        assert c.quotes


def test_direct_question_opens_with_the_sentence_that_answers(assistant):
    answer = assistant.ask("How old was Yeonmi Park when she escaped?")
    assert answer.text.startswith("One such individual is Yeonmi Park, who escaped North Korea at the age of 13 with her mother. [1]")
    assert len(re.findall(r"\[\d+\]", answer.text)) <= 3
    assert answer.citations[0].passage.chunk.section == "Leaving North Korea > Personal Accounts of Successful Escape"
    _check_citations(answer)


def test_follow_up_answers_as_if_the_name_was_given(assistant):
    answer = assistant.ask("How old was she when she got out?", ["Tell me about Yeonmi Park."])
    assert "at the age of 13" in answer.text.split("[")[0]
    assert answer.query == "How old was she when she got out? Yeonmi Park"


@pytest.mark.parametrize("question", ["What is a good recipe for kimchi?", "How do I reset the password on my Wi-Fi router?"])
def test_off_corpus_questions_abstain_and_list_related(assistant, question):
    answer = assistant.ask(question)
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert answer.citations == () and len(answer.retrieved) == 5


def test_section_questions_cite_their_section(assistant):
    cases = {
        "Which other countries restrict emigration?": "A Comparison of North Korea’s Emigration Policies with Other Countries",
        "What did the famine of the 1990s lead to?": "Historical Context of North Korea’s Emigration Policies",
        "Where is freedom of movement enshrined?": "International Law and Human Rights Implications",
    }
    for question, section in cases.items():
        answer = assistant.ask(question)
        assert not answer.abstained, question
        assert answer.citations[0].passage.chunk.section == f"Leaving North Korea > {section}", question
        _check_citations(answer)


def test_no_fact_is_repeated(assistant):
    answer = assistant.ask("What happened to Jo Hye Kyung?")
    sentences = [s.text for s in answer.sentences]
    assert len(sentences) == len(set(sentences))


def test_question_limits(assistant):
    with pytest.raises(InputError, match="the question is empty"):
        assistant.ask(" \t\n")
    with pytest.raises(InputError, match=r"too long \(2001 characters; the limit is 2000\)"):
        assistant.ask("a" * 2001)
