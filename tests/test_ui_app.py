"""The web chat through Streamlit's AppTest: real assistant, real index (a copy of the ingested
corpus), real page scripts. Plus the upload checks of ui/uploads.py, which need no Streamlit."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from passage.models import DocumentRecord
from passage.settings import Settings
from ui.uploads import Upload, check, safe_name, save_uploads

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "main.py"
TIMEOUT = 90

HOSTILE = """# Kumquat <script>alert(1)</script> notes ![t](http://127.0.0.1:9/t.png)

Kumquats may cross the border freely under the kumquat passage rule. <script>alert("x")</script>
![x](http://127.0.0.1:9/x.png) The kumquat passage rule was adopted in 1999.
<img src="http://127.0.0.1:9/y.png" onerror="alert(2)"> [click me](javascript:alert(3)) **bold** :red[red]
"""


def app(data_dir: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PASSAGE_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def htmls(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html")]


def answers(at: AppTest) -> list:
    return [m["answer"] for m in at.session_state["messages"] if "answer" in m]


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def tags(html: str) -> set[tuple[str, tuple[str, ...]]]:
    """The (tag, attribute names) pairs a browser would build from `html`."""
    from html.parser import HTMLParser

    found = set()
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.add((tag, tuple(name for name, _ in attrs)))
    parser.feed(html)
    return found


def unescape_md(label: str) -> str:
    return re.sub(r"\\(.)", r"\1", label)


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
    assert labels == ["[1] Leaving North Korea > Personal Accounts of Successful Escape"]
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
    assert len([v for v in htmls(at) if v.startswith('<div class="answer">')]) == 2
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
    assert "Related: The World Factbook: Korea, North > Government > Capital" in labels


def _streaming_chat():
    """A page that asks through ui.views.chat with an assistant whose answerer streams three pieces."""
    import streamlit as st

    from passage.models import Answer, Chunk, Citation, Passage
    from ui import session
    from ui.views import chat

    class StreamingAssistant:
        def stream(self, question, history, **options):
            st.session_state["streamed_with"] = (question, list(history), options)
            yield "Streamed "
            yield "answer "
            yield "[1]"
            chunk = Chunk("c1", "doc", "Doc", "Part", "The streamed fact.", 0, 18, None, 5, "Doc > Part")
            passage = Passage(chunk, 0.9)
            yield Answer(question, "Streamed answer [1]", False, (Citation(1, passage, ("The streamed fact.",)),),
                         (passage,), answerer="llm", groundedness=1.0)

    messages = st.session_state.setdefault("messages", [])
    question = st.chat_input("Ask")
    if question:
        chat.ask(StreamingAssistant(), None, question, messages, session.Options(3, "dense", "llm"))


def test_a_streamed_answer_is_shown_with_its_sources():
    at = AppTest.from_function(_streaming_chat, default_timeout=TIMEOUT).run()
    ask(at, "Stream please")
    assert at.session_state["streamed_with"] == ("Stream please", [], {"k": 3, "mode": "dense", "answerer": "llm"})
    assert '<div class="answer">Streamed answer <span class="cite">[1]</span></div>' in htmls(at)
    assert [unescape_md(e.label) for e in at.expander] == ["[1] Doc > Part"]
    assert '<div class="passage"><mark>The streamed fact.</mark></div>' in htmls(at)
    assert unescape_md(at.caption[-1].value) == "llm · 100% of sentences supported"


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


# --- documents --------------------------------------------------------------------------------

def test_documents_page_lists_the_library(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert len(table) == 7
    assert list(table.columns) == ["Title", "Source", "Type", "Sections", "Chunks", "Added"]
    assert "leaving-north-korea" in set(table["Source"])
    assert table.set_index("Source").loc["leaving-north-korea", "Sections"] == 8


def test_upload_is_answerable_at_once_and_bad_files_are_refused(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    uploader = at.file_uploader[0]
    uploader.upload("../../Zorblat Treaty.md", b"# Zorblat Treaty\n\nThe Zorblat Treaty of 1999 guarantees free passage for kumquat farmers.\n", "text/markdown")
    uploader.upload("payload.exe", b"MZ\x90\x00", "application/octet-stream")
    uploader.upload("iccpr.txt", b"An impostor that wants the name of the covenant.", "text/plain")
    uploader.upload("fake.pdf", b"not a pdf at all", "application/pdf")
    next(b for b in at.button if b.label == "Add to the library").click().run()
    assert not at.exception
    errors = [unescape_md(e.value) for e in at.error]
    assert errors == [
        "payload.exe: unsupported file type '.exe'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx",
        "iccpr.txt: a document named 'iccpr' already exists (from iccpr.md); rename the file or remove that document first",
        "fake.pdf: the content is not a PDF file",
    ]
    assert [unescape_md(s.value) for s in at.success] == [
        "Zorblat-Treaty.md: added as **Zorblat-Treaty** (1 chunk); you can ask about it now."]
    assert len(at.dataframe[0].value) == 8
    stored = Settings(data_dir=fresh_data_dir).uploads_dir
    assert sorted(p.name for p in stored.iterdir()) == ["Zorblat-Treaty.md"]

    at.switch_page("views/chat.py").run()
    ask(at, "What does the Zorblat Treaty guarantee?")
    (answer,) = answers(at)
    assert not answer.abstained and answer.citations[0].passage.chunk.source == "Zorblat-Treaty"


def test_remove_a_document(fresh_data_dir, monkeypatch):
    from ingest.store import open_store

    chunks = next(len(r.chunk_ids) for r in open_store(Settings(data_dir=fresh_data_dir)).records() if r.source == "iccpr")
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/documents.py").run()
    at.selectbox(key="remove_source").set_value("iccpr")
    next(b for b in at.button if b.label == "Remove").click().run()
    assert not at.exception
    assert [unescape_md(s.value) for s in at.success] == [f"Removed iccpr ({chunks} chunks)."]
    assert "iccpr" not in set(at.dataframe[0].value["Source"])
    assert len(at.dataframe[0].value) == 6


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


# --- evaluation -------------------------------------------------------------------------------

def test_evaluation_runs_shows_scores_and_compares_runs(fresh_data_dir, monkeypatch, tmp_path):
    at = app(fresh_data_dir, monkeypatch)
    at.switch_page("views/evaluation.py").run()
    assert not at.exception
    at.number_input(key="eval_limit").set_value(3).run()
    next(b for b in at.button if b.label.startswith("Run 3 questions")).click().run()
    assert not at.exception
    assert re.match(r"\d of 3 passed \(3 answerable, 0 unanswerable\)", at.success[0].value)
    assert [m.label for m in at.metric] == ["pass rate", "evidence hit@k", "citation recall", "abstention F1"]
    summary = at.dataframe[0].value
    assert {"evidence hit@k", "latency p95 (ms) ↓", "pass rate"} <= set(summary["Metric"])
    assert {"95% CI low", "95% CI high"} <= set(summary.columns)
    runs = list((tmp_path / "runs").iterdir())  # tests run in tmp_path
    assert len(runs) == 1 and (runs[0] / "results.jsonl").is_file()

    tiny = tmp_path / "tiny.jsonl"
    rows = [json.loads(line) for line in (ROOT / "corpus" / "testset.jsonl").read_text().splitlines()[:2]]
    rows.append({"id": "x-france", "question": "What is the capital of France?", "answerable": False})
    tiny.write_text("\n".join(json.dumps(r) for r in rows))
    at.radio(key="eval_source").set_value("upload").run()
    at.file_uploader(key="eval_upload").upload("tiny.jsonl", tiny.read_bytes(), "application/json")
    at.run()
    next(b for b in at.button if b.label.startswith("Run 3 questions")).click().run()
    assert not at.exception
    questions = next(d.value for d in at.dataframe if "question" in d.value.columns and "passed" in d.value.columns)
    assert list(questions["id"]) == [r.get("id") for r in rows]
    at.toggle(key="eval_failed_only").set_value(True).run()
    failed = next(d.value for d in at.dataframe if "question" in d.value.columns and "passed" in d.value.columns)
    assert not failed["passed"].any()
    deltas = next(d.value for d in at.dataframe if "Verdict" in d.value.columns)
    assert "evidence hit@k" in set(deltas["Metric"])
    assert at.selectbox(key="eval_baseline").value.name == runs[0].name


# --- upload checks (no Streamlit) -------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("report.md", "report.md"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\evil.TXT", "evil.txt"),
    ("/abs/path/My Report (v2).MD", "My-Report-v2.md"),
    ("Überblick.pdf", "Uberblick.pdf"),
    (".hidden.md", "hidden.md"),
    ("...", ""),
    ("../", ""),
    ("a/b/..", ""),
    ("name.with.dots.txt", "name.with.dots.txt"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def _record(source: str, path: str) -> DocumentRecord:
    return DocumentRecord(source, source.title(), path, "md", "h", ("c",), 1, "2024-01-01T00:00:00+00:00", "sig")


def test_save_uploads_refuses_traversal_collisions_bad_types_and_sizes(tmp_path):
    folder = tmp_path / "uploads"
    records = [_record("iccpr", "/corpus/iccpr.md"), _record("notes", str(folder / "notes.txt"))]
    saved = save_uploads([
        Upload("../../outside.md", b"# Out\n\nText."),
        Upload("ICCPR.txt", b"same name, other case"),
        Upload("notes.txt", b"a new version of notes"),
        Upload("big.txt", b"x" * 101),
        Upload("empty.md", b""),
        Upload("script.sh", b"echo hi"),
        Upload("fake.docx", b"plain text"),
        Upload("../outside.md", b"# Twice\n\nText."),
    ], folder, records, max_bytes=100)
    assert [(s.name, s.path.name if s.path else None, s.error) for s in saved] == [
        ("../../outside.md", "outside.md", ""),
        ("ICCPR.txt", None, "a document named 'ICCPR' already exists (from iccpr.md); rename the file or remove that document first"),
        ("notes.txt", "notes.txt", ""),
        ("big.txt", None, "the file is 101 bytes; the limit is 100 bytes"),
        ("empty.md", None, "the file is empty"),
        ("script.sh", None, "unsupported file type '.sh'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx"),
        ("fake.docx", None, "the content is not a DOCX file"),
        ("../outside.md", None, "another file of this upload has the same name"),
    ]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["notes.txt", "outside.md"]
    assert (folder / "notes.txt").read_bytes() == b"a new version of notes"
    assert all(p.parent == folder for p in tmp_path.rglob("*") if p.is_file())


def test_check_accepts_real_pdf_and_docx_headers():
    assert check(Upload("a.pdf", b"%PDF-1.7 ..."), 1000) == ""
    assert check(Upload("a.docx", b"PK\x03\x04..."), 1000) == ""
    assert check(Upload("noext", b"text"), 1000).startswith("unsupported file type '(none)'")


# --- `passage ui` -----------------------------------------------------------------------------

def test_passage_ui_serves_the_app_on_loopback(fresh_data_dir, tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    passage = Path(sys.executable).with_name("passage")
    proc = subprocess.Popen([str(passage), "ui", "--port", str(port), "--data-dir", str(fresh_data_dir)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, healthy = time.monotonic() + 60, False
        while time.monotonic() < deadline and not healthy and proc.poll() is None:
            try:
                healthy = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
            except OSError:
                time.sleep(0.3)
        assert healthy, proc.stdout.read().decode() if proc.poll() is not None else "no health reply"
    finally:
        proc.terminate()  # the command execs Streamlit, so this stops the server itself
        assert proc.wait(timeout=15) is not None
    output = proc.stdout.read().decode()
    assert f"passage web chat on http://127.0.0.1:{port}" in output
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
