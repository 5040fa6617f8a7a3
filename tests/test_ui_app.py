"""The web chat through Streamlit's AppTest: real assistant, real index (a copy of the ingested
corpus), real page scripts."""
from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from passage.settings import Settings
from tests.pages import ROOT, TIMEOUT, answers, app, ask, htmls, tags, unescape_md, walk

HOSTILE = """# Kumquat <script>alert(1)</script> notes ![t](http://127.0.0.1:9/t.png)

Kumquats may cross the border freely under the kumquat passage rule. <script>alert("x")</script>
![x](http://127.0.0.1:9/x.png) The kumquat passage rule was adopted in 1999.
<img src="http://127.0.0.1:9/y.png" onerror="alert(2)"> [click me](javascript:alert(3)) **bold** :red[red]
"""

pytestmark = pytest.mark.slow


# --- chat -------------------------------------------------------------------------------------

def test_starter_question_gets_a_cited_answer_with_an_openable_source(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    assert not at.exception
    assert [t.value for t in at.title] == ["Ask the library"]
    starter = next(b for b in at.button if b.label == "How old was Yeonmi Park when she escaped?")
    starter.click().run()
    assert not at.exception
    body = next(v for v in htmls(at) if v.startswith('<div class="answer">'))
    assert "13" in body and '<span class="cite">[1]</span>' in body
    labels = [unescape_md(e.label) for e in at.expander]
    assert labels == ["[1] Leaving North Korea › Personal Accounts of Successful Escape"]
    passage = next(v for v in htmls(at) if v.startswith('<div class="passage">'))
    assert "<mark>One such individual is Yeonmi Park, who escaped North Korea at the age of 13 with her mother.</mark>" in passage
    at.toggle[0].set_value(True).run()
    context = next(v for v in htmls(at) if v.startswith('<div class="section-context">'))
    assert "Personal Accounts of Successful Escape" in context and "Jo Hye Kyung" in context
    assert '<span class="in-context">' in context and "<mark>" in context


def test_follow_up_uses_the_conversation_and_new_chat_clears_it(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    ask(at, "Tell me about Yeonmi Park.")
    ask(at, "How old was she when she got out?")
    first, second = answers(at)
    assert not second.abstained and "13" in second.text
    assert "Yeonmi Park" in second.query
    assert [m["role"] for m in at.session_state["messages"]] == ["user", "assistant"] * 2
    assert not first.abstained
    # both turns render as answers (a correct one the reader rates under 0.5 is marked low-confidence)
    assert len([v for v in htmls(at) if re.match(r'<div class="answer( low-confidence)?">', v)]) == 2
    next(b for b in at.button if b.label == "New chat").click().run()
    assert at.session_state["messages"] == []
    assert "How old was Yeonmi Park when she escaped?" in [b.label for b in at.button]


def test_abstention_looks_different_and_lists_related_passages(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    ask(at, "What is the capital of France?")
    (answer,) = answers(at)
    assert answer.abstained
    assert any(v.startswith('<div class="abstain">') for v in htmls(at))
    assert not any(v.startswith('<div class="answer">') for v in htmls(at))
    labels = [unescape_md(e.label) for e in at.expander]
    assert len(labels) == len(answer.retrieved) > 0
    assert all(label.startswith("Related: ") for label in labels)
    assert "Related: The World Factbook: Korea, North › Government › Capital" in labels


def _unsupported_chat():
    """A page showing an LLM answer whose second sentence its passage does not support."""
    import streamlit as st

    from passage.models import Answer, AnswerSentence, Chunk, Citation, Passage
    from ui.components import render_answer

    chunk = Chunk("c1", "doc", "Doc", "Part", "Yeonmi Park escaped at 13.", 0, 26, None, 8, "Doc > Part")
    passage = Passage(chunk, 0.9)
    sentences = (AnswerSentence("She escaped at 13.", (1,), True), AnswerSentence("She <b>flew</b> to Paris.", (1,), False))
    answer = Answer("q", "She escaped at 13. [1] She <b>flew</b> to Paris. [1]", False,
                    (Citation(1, passage, ("Yeonmi Park escaped at 13.",)),), (passage,), sentences, answerer="llm",
                    groundedness=0.5)

    class Library:
        def section_text(self, source, section):
            return chunk.text

    st.session_state["shown"] = True
    render_answer(answer, "a0", Library())


def test_unsupported_sentences_are_marked():
    at = AppTest.from_function(_unsupported_chat, default_timeout=TIMEOUT).run()
    assert (
        '<div class="answer">She escaped at 13. <span class="cite">[1]</span> '
        '<span class="unsupported" title="not supported by the cited passages">She &lt;b&gt;flew&lt;/b&gt; to Paris. '
        '<span class="cite">[1]</span></span></div>'
    ) in htmls(at)
    assert at.caption[0].value == "Underlined sentences are not supported by the passages they cite."
    assert unescape_md(at.caption[-1].value) == "llm · 50% of sentences supported"


def test_sidebar_defaults_come_from_the_settings_and_reach_the_assistant(fresh_data_dir, monkeypatch):
    monkeypatch.setenv("PASSAGE_K", "2")
    monkeypatch.setenv("PASSAGE_MODE", "bm25")
    monkeypatch.setenv("PASSAGE_ANSWERER", "extractive")
    at = app(fresh_data_dir, monkeypatch)
    assert at.sidebar.slider[0].value == 2
    assert at.session_state["opt_mode"] == "bm25"
    assert at.sidebar.radio[0].value == "extractive"
    at.sidebar.slider[0].set_value(1).run()
    ask(at, "Does everyone have the right to leave any country?")
    (answer,) = answers(at)
    assert len(answer.retrieved) == 1


def test_a_bad_setting_is_one_error_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PASSAGE_K", "0")
    at = app(tmp_path / "data", monkeypatch)
    assert not at.exception
    assert [e.value for e in at.error] == ["invalid setting k: Input should be greater than or equal to 1"]


def test_an_empty_index_gets_the_bundled_corpus_first(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "leaving-north-korea.txt").write_text((ROOT / "corpus" / "leaving-north-korea.txt").read_text())
    monkeypatch.setattr("ui.session.CORPUS", corpus)
    at = app(tmp_path / "data", monkeypatch)
    assert not at.exception
    ask(at, "How old was Yeonmi Park when she escaped?")
    assert "13" in answers(at)[0].text
    at.switch_page("views/documents.py").run()
    assert list(at.dataframe[0].value["Source"]) == ["leaving-north-korea"]


# --- safety -----------------------------------------------------------------------------------

def test_a_hostile_document_is_shown_as_text(fresh_data_dir, embedder, monkeypatch, tmp_path):
    from app.wiring import build_ingestor

    (tmp_path / "kumquat.md").write_text(HOSTILE)
    report = build_ingestor(Settings(data_dir=fresh_data_dir), embedder).ingest([tmp_path / "kumquat.md"])
    assert not report.failed
    at = app(fresh_data_dir, monkeypatch)
    ask(at, "May kumquats cross the border?")
    (answer,) = answers(at)
    assert answer.citations[0].passage.chunk.source == "kumquat"
    at.toggle[0].set_value(True).run()
    shown = "\n".join(htmls(at))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "&lt;img src=" in shown
    for html in htmls(at):
        assert tags(html) <= {("div", ("class",)), ("span", ("class",)), ("mark", ()), ("p", ("class",)), ("style", ())}, html
    markdown_texts = [e.label for e in at.expander]
    markdown_texts += [e.value for e in walk(at._tree) if getattr(e, "type", "") in ("markdown", "caption", "error", "success", "info", "warning")]
    assert any("Kumquat" in t for t in markdown_texts)
    for text in markdown_texts:
        assert "![" not in text and "](" not in text and ":red[" not in text and "://" not in text, text
        assert not re.search(r"(?<!\\)<(script|img)", text), text
    at.switch_page("views/documents.py").run()
    assert not at.exception
