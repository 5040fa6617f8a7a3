"""An LLM reply parsed into sentences with their [n] markers, and checked against the passages:
a bag-of-words embedder whose similarities are predictable, passages built by hand."""
from __future__ import annotations

import pytest

from passage.errors import ConfigError
from rag.extractive import ExtractiveAnswerer
from rag.llm.verify import Claim, Verifier, parse
from tests.conftest import WordsEmbedder
from tests.llm_cases import PASSAGES, QUESTION


@pytest.fixture(scope="module")
def extractive():
    return ExtractiveAnswerer(WordsEmbedder(), max_sentences=2, abstain_below=0.2)


# --- parsing ---------------------------------------------------------------------------

def test_parse_moves_leading_markers_to_the_sentence_before():
    assert parse("She was 13. [1] They crossed it [2][3].") == [Claim("She was 13.", (1,)), Claim("They crossed it.", (2, 3))]


def test_parse_reads_marker_lists_and_keeps_line_breaks():
    assert parse("First point here [1, 3].\nSecond point [2]") == [
        Claim("First point here.", (1, 3), newline_after=True), Claim("Second point", (2,))]


def test_parse_leaves_markers_opening_a_line_with_that_line():
    assert parse("She was 13 [1].\n[4] Other title > Part\nMore text.") == [
        Claim("She was 13.", (1,), newline_after=True), Claim("Other title > Part", (4,), newline_after=True),
        Claim("More text.", ())]
    assert parse("She was 13.\n[1]") == [Claim("She was 13.", (1,), newline_after=True)]


def test_parse_of_markers_only_or_nothing_gives_no_claims():
    assert parse("[1][2]") == [] and parse("") == [] and parse("  \n ") == []


def test_parse_keeps_uncited_sentences_without_markers():
    assert parse("No citation at all. Another one.") == [Claim("No citation at all.", ()), Claim("Another one.", ())]


# --- verification ---------------------------------------------------------------------

def test_supported_sentences_keep_their_citations(extractive):
    answer = Verifier(extractive.relevance, 0.6).check(
        QUESTION, "Yeonmi Park escaped at the age of 13 [1]. Jo now lives in South Korea [2].", PASSAGES, PASSAGES)
    assert [(s.text, s.markers, s.supported) for s in answer.sentences] == [
        ("Yeonmi Park escaped at the age of 13.", (1,), True), ("Jo now lives in South Korea.", (2,), True)]
    assert answer.text == "Yeonmi Park escaped at the age of 13. [1] Jo now lives in South Korea. [2]"
    assert [(c.n, c.passage.chunk.id) for c in answer.citations] == [(1, "c1"), (2, "c2")]
    assert answer.citations[0].quotes == ("Yeonmi Park escaped North Korea at the age of 13 with her mother.",)
    assert (answer.answerer, answer.groundedness, answer.notice) == ("llm", 1.0, "")


def test_a_sentence_citing_the_wrong_passage_is_unsupported(extractive):
    answer = Verifier(extractive.relevance, 0.6).check(
        QUESTION, "Yeonmi Park escaped at the age of 13 [1]. The moon is made of green cheese [3].", PASSAGES, PASSAGES)
    assert [s.supported for s in answer.sentences] == [True, False]
    assert answer.groundedness == 0.5
    assert [c.n for c in answer.citations] == [1, 3] and answer.citations[1].quotes == ()


def test_citing_a_passage_that_was_not_listed_is_repaired_or_dropped(extractive):
    reply = "Yeonmi Park escaped at the age of 13 [7]. The moon is made of green cheese [9]."
    answer = Verifier(extractive.relevance, 0.6).check(QUESTION, reply, PASSAGES, PASSAGES)
    assert [(s.markers, s.supported) for s in answer.sentences] == [((1,), True), ((), False)]
    assert answer.text == "Yeonmi Park escaped at the age of 13. [1] The moon is made of green cheese."
    assert [c.n for c in answer.citations] == [1]
    assert answer.notice == "citations not among the 3 passages: [7] replaced by [1]; [9] removed"


def test_echoed_passage_headings_are_left_out(extractive):
    reply = "Yeonmi Park escaped at the age of 13 [1].\n[4] Yeonmi Park > Escape\n[2] Made-up title > Part\nJo now lives in South Korea [2]."
    answer = Verifier(extractive.relevance, 0.6).check(QUESTION, reply, PASSAGES, PASSAGES)
    assert [s.text for s in answer.sentences] == ["Yeonmi Park escaped at the age of 13.", "Jo now lives in South Korea."]
    assert answer.text == "Yeonmi Park escaped at the age of 13. [1]\nJo now lives in South Korea. [2]"
    assert answer.notice == ""


def test_sentences_without_citations_are_unsupported(extractive):
    answer = Verifier(extractive.relevance, 0.6).check(QUESTION, "Yeonmi Park escaped at the age of 13.", PASSAGES, PASSAGES)
    assert [(s.markers, s.supported) for s in answer.sentences] == [((), False)]
    assert answer.citations == () and answer.groundedness == 0.0


def test_threshold_outside_zero_to_one_is_a_config_error(extractive):
    with pytest.raises(ConfigError, match="within 0..1"):
        Verifier(extractive.relevance, 1.5)
