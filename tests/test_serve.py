"""`passage serve` as a client meets it: a real server process on a copy of the ingested corpus,
with an API key, driven over HTTP with httpx and with the `openai` package."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from app.render import answer_json, record_json
from passage.models import section_label
from tests.api_server import PASSAGE, passage_serve, sse_events

pytestmark = pytest.mark.slow

KEY = "test-key-2f9c41d7"  # made up for these tests
QUESTION = "How old was Yeonmi Park when she escaped?"
KUMQUAT = b"# Kumquat notes\n\nKumquats may cross the border freely under the kumquat passage rule since 1999.\n"
MAX_FILE_MB = 1


class Server(NamedTuple):
    url: str
    data_dir: Path
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory, ingested_dir) -> Server:
    folder = tmp_path_factory.mktemp("serve")
    data_dir = folder / "data"
    shutil.copytree(ingested_dir, data_dir)
    env = {"PASSAGE_API_KEY": KEY, "PASSAGE_MAX_FILE_MB": str(MAX_FILE_MB)}
    with passage_serve(data_dir, folder / "server.log", env) as url:
        yield Server(url, data_dir, folder / "server.log")


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as c:
        yield c


def without_timings(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "timings_ms"}


def uploads(server: Server) -> list[str]:
    """Every file under the uploads folder and any staging folder left beside it."""
    return sorted(str(p.relative_to(server.data_dir)) for p in server.data_dir.rglob("*")
                  if p.is_file() and ("uploads" in p.parts or p.parent.name.startswith(".staging")))


# --- ask ----------------------------------------------------------------------------------------

def test_ask_returns_what_ask_json_prints(client, assistant):
    reply = client.post("/ask", json={"question": QUESTION})
    assert reply.status_code == 200
    data = reply.json()
    assert without_timings(data) == without_timings(answer_json(assistant.ask(QUESTION)))
    assert data["citations"][0]["section"] == "Leaving North Korea > Personal Accounts of Successful Escape"
    assert set(data["timings_ms"]) == {"retrieve", "answer", "total"}


def test_ask_options_and_history_reach_the_assistant(client, assistant):
    body = {"question": "How old was she when she got out?", "history": ["Tell me about Yeonmi Park."], "k": 2,
            "mode": "bm25", "source": "leaving-north-korea", "answerer": "extractive"}
    data = client.post("/ask", json=body).json()
    expected = assistant.ask(body["question"], body["history"], k=2, mode="bm25", source="leaving-north-korea",
                             answerer="extractive")
    assert without_timings(data) == without_timings(answer_json(expected))
    assert len(data["retrieved"]) == 2 and {p["source"] for p in data["retrieved"]} == {"leaving-north-korea"}


def test_ask_streams_text_then_the_answer_object(client):
    whole = client.post("/ask", json={"question": QUESTION}).json()
    with client.stream("POST", "/ask", json={"question": QUESTION, "stream": True}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = sse_events(reply.read().decode())
    assert [name for name, _ in events] == ["message"] * (len(events) - 1) + ["answer"]
    assert "".join(data for _, data in events[:-1]) == whole["answer"]
    assert without_timings(json.loads(events[-1][1])) == without_timings(whole)


@pytest.mark.parametrize("body, status, error", [
    ({}, 422, "question: Field required"),
    ({"question": ""}, 422, "question: String should have at least 1 character"),
    ({"question": " \x00\t "}, 400, "the question is empty; type a question about the documents"),
    ({"question": "x" * 2001}, 422, "question: String should have at most 2000 characters"),
    ({"question": "x", "k": 0}, 422, "k: Input should be greater than or equal to 1"),
    ({"question": "x", "mode": "fuzzy"}, 422, "mode: Input should be 'hybrid', 'dense' or 'bm25'"),
    ({"question": "x", "answerer": "gpt"}, 422, "answerer: Input should be 'reader', 'extractive' or 'llm'"),
    ({"question": "x", "history": "not a list"}, 422, "history: Input should be a valid list"),
    ({"question": "x", "colour": "red"}, 422, "colour: Extra inputs are not permitted"),
    ({"question": "x", "source": "nope"}, 400, "no document 'nope'; choose one of: iccpr, leaving-north-korea, "
     "north-korean-human-rights-act, refugee-convention-1951, un-coi-dprk-statement-2014, "
     "universal-declaration-of-human-rights, world-factbook-north-korea"),
    ({"question": "x", "source": "nope", "stream": True}, 400, "no document 'nope'; choose one of: iccpr, "
     "leaving-north-korea, north-korean-human-rights-act, refugee-convention-1951, un-coi-dprk-statement-2014, "
     "universal-declaration-of-human-rights, world-factbook-north-korea"),
])
def test_bad_questions_get_one_line_and_a_status(client, body, status, error):
    reply = client.post("/ask", json=body)
    assert (reply.status_code, reply.json()) == (status, {"error": error})


def test_malformed_requests_get_one_line(client):
    reply = client.post("/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert (reply.status_code, reply.json()) == (422, {"error": "the body is not valid JSON (Expecting property name enclosed in double quotes)"})
    big = client.post("/ask", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert (big.status_code, big.json()) == (413, {"error": "the request body is larger than the limit of 1048576 bytes"})
    chunked = client.post("/ask", content=iter([b"x" * 65536] * 17), headers={"Content-Type": "application/json"})
    assert (chunked.status_code, chunked.json()) == (413, {"error": "the request body is larger than the limit of 1048576 bytes"})
    assert (client.get("/nowhere").status_code, client.get("/nowhere").json()) == (404, {"error": "Not Found"})
    assert (client.get("/ask").status_code, client.get("/ask").json()) == (405, {"error": "Method Not Allowed"})


# --- documents ----------------------------------------------------------------------------------

def test_documents_list_what_docs_list_json_prints_with_file_names(client, assistant):
    listed = client.get("/documents").json()
    assert listed == [{**record_json(r), "path": Path(r.path).name} for r in assistant.retriever.store.records()]
    assert "leaving-north-korea.txt" in [d["path"] for d in listed]
    assert not any("/" in d["path"] for d in listed)  # no server folder shows


def test_upload_ask_and_remove_a_document(client, server):
    before = client.get("/documents").json()
    reply = client.post("/documents", files={"files": ("kumquat.md", KUMQUAT, "text/markdown")})
    assert (reply.status_code, reply.json()) == (201, {"documents": [
        {"file": "kumquat.md", "source": "kumquat", "status": "new", "chunks": 1}]})
    assert uploads(server) == ["uploads/kumquat.md"]
    answer = client.post("/ask", json={"question": "May kumquats cross the border?"}).json()
    assert answer["citations"][0]["source"] == "kumquat"
    again = client.post("/documents", files={"files": ("kumquat.md", KUMQUAT, "text/markdown")}).json()
    assert again["documents"][0]["status"] == "unchanged"

    reply = client.delete("/documents/kumquat")
    assert (reply.status_code, reply.json()) == (200, {"source": "kumquat", "chunks": 1})
    assert uploads(server) == []
    assert client.get("/documents").json() == before
    missing = client.delete("/documents/kumquat")
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no document 'kumquat'; indexed: iccpr, leaving-north-korea")


BIG = b"# Big\n\n" + b"A sentence about borders. " * (MAX_FILE_MB * 1024 * 1024 // 26 + 10)


@pytest.mark.parametrize("files, status, error", [
    ([("empty.md", b"")], 400, "empty.md: the file is empty"),
    ([("fake.pdf", b"just text")], 400, "fake.pdf: the content is not a PDF file"),
    ([("tool.exe", b"MZ\x90\x00")], 400, "tool.exe: unsupported file type '.exe'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx"),
    ([("nul.txt", b"text\x00with nul")], 400, "nul.txt: binary content (NUL bytes), not text"),
    ([("iccpr.txt", b"A covenant.")], 400, "iccpr.txt: a document named 'iccpr' already exists (from iccpr.md); "
     "rename the file or remove that document first"),
    ([("kumquat.md", KUMQUAT), ("bad.txt", b"\xff\xfe\x00\x00")], 400, None),
    ([("big.md", BIG)], 413, "big.md: the file is 1.0 MB; the limit is 1.0 MB"),
    ([("huge.md", b"x" * (11 * 1024 * 1024 + 1))], 413, "the request body is larger than the limit of 11534336 bytes"),
])
def test_a_bad_file_changes_nothing(client, server, files, status, error):
    before = client.get("/documents").json()
    reply = client.post("/documents", files=[("files", (name, data)) for name, data in files])
    assert reply.status_code == status
    if error:
        assert reply.json() == {"error": error}
    else:
        assert reply.json()["error"].startswith("bad.txt: ")
    assert client.get("/documents").json() == before
    assert uploads(server) == []


def test_questions_asked_while_a_document_is_added_all_get_answers(server, client):
    """Eight questions at once, and an upload and a removal among them: every request succeeds."""
    from concurrent.futures import ThreadPoolExecutor

    questions = ["How old was Yeonmi Park when she escaped?", "Who can be considered a refugee?",
                 "Does everyone have the right to leave any country?", "Why is it so hard to leave North Korea?"] * 2
    with ThreadPoolExecutor(max_workers=9) as pool:
        asked = [pool.submit(client.post, "/ask", json={"question": q}) for q in questions]
        added = pool.submit(client.post, "/documents", files={"files": ("kumquat.md", KUMQUAT, "text/markdown")})
        replies = [f.result() for f in asked]
        assert added.result().status_code == 201
    assert [r.status_code for r in replies] == [200] * 8
    assert [r.json()["question"] for r in replies] == questions
    assert client.delete("/documents/kumquat").status_code == 200
    assert uploads(server) == []


def test_upload_without_files_is_a_validation_error(client):
    reply = client.post("/documents", data={"other": "x"})
    assert (reply.status_code, reply.json()) == (422, {"error": "files: Field required"})


def error_of(reply: httpx.Response) -> str:
    """The error line: `{"error": line}`, or OpenAI's `{"error": {"message": line, ...}}` under /v1."""
    body = reply.json()
    assert list(body) == ["error"]
    if reply.url.path.startswith("/v1/"):
        assert body["error"]["type"] in ("invalid_request_error", "authentication_error", "server_error")
        return body["error"]["message"]
    return body["error"]


# --- the API key --------------------------------------------------------------------------------

def test_the_api_key_guards_every_route_but_health_and_docs(server):
    guarded = [("POST", "/ask", {"question": QUESTION}), ("GET", "/documents", None), ("DELETE", "/documents/x", None),
               ("GET", "/v1/models", None), ("POST", "/v1/chat/completions", {"model": "passage", "messages": []})]
    missing = "this server needs an API key: send Authorization: Bearer <PASSAGE_API_KEY>"
    with httpx.Client(base_url=server.url, timeout=60) as anonymous:
        for method, path, body in guarded:
            reply = anonymous.request(method, path, json=body)
            assert reply.status_code == 401, path
            assert error_of(reply) == missing
            assert reply.headers["www-authenticate"] == "Bearer"
            wrong = anonymous.request(method, path, json=body, headers={"Authorization": "Bearer " + KEY[:-1]})
            assert (wrong.status_code, error_of(wrong)) == (401, "wrong API key")
        basic = anonymous.get("/documents", headers={"Authorization": f"Basic {KEY}"})
        assert basic.status_code == 401
        assert anonymous.get("/health").json() == {"status": "ok"}
        assert anonymous.get("/docs").status_code == 200
        assert "/v1/chat/completions" in anonymous.get("/openapi.json").json()["paths"]
        right = anonymous.get("/documents", headers={"Authorization": f"Bearer {KEY}"})
        assert right.status_code == 200 and len(right.json()) == 7
    log = server.log.read_text()
    assert '"GET /documents HTTP/1.1" 401' in log  # the access log is on...
    assert KEY[:8] not in log  # ...and never shows the key


# --- OpenAI-compatible --------------------------------------------------------------------------

@pytest.fixture
def openai_client(server):
    from openai import OpenAI

    return OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=120)


def expected_content(answer) -> str:
    sources = "\n".join(f"[{c.n}] {section_label(c.passage.chunk.title, c.passage.chunk.section)}" for c in answer.citations)
    return f"{answer.text}\n\nSources:\n{sources}"


def test_openai_client_asks(openai_client, assistant):
    assert [m.id for m in openai_client.models.list()] == ["passage"]
    reply = openai_client.chat.completions.create(model="passage", messages=[
        {"role": "system", "content": "Answer briefly."}, {"role": "user", "content": QUESTION}])
    answer = assistant.ask(QUESTION)
    content = reply.choices[0].message.content
    assert content == expected_content(answer)
    assert "\n\nSources:\n[1] Leaving North Korea > Personal Accounts of Successful Escape" in content
    assert reply.choices[0].finish_reason == "stop" and reply.model == "passage"
    assert without_timings(reply.model_extra["passage"]) == without_timings(answer_json(answer))


def test_openai_client_streams_the_same_reply(openai_client):
    whole = openai_client.chat.completions.create(model="passage", messages=[{"role": "user", "content": QUESTION}])
    chunks = list(openai_client.chat.completions.create(
        model="passage", messages=[{"role": "user", "content": QUESTION}], stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].model_extra["passage"]["answer"] == whole.model_extra["passage"]["answer"]


def test_openai_follow_up_and_extra_options(openai_client, assistant):
    messages = [{"role": "user", "content": "Tell me about Yeonmi Park."},
                {"role": "assistant", "content": "She escaped North Korea."},
                {"role": "user", "content": [{"type": "text", "text": "How old was she when she got out?"}]}]
    reply = openai_client.chat.completions.create(model="passage", messages=messages, extra_body={"k": 2, "mode": "dense"})
    expected = assistant.ask("How old was she when she got out?", ["Tell me about Yeonmi Park."], k=2, mode="dense")
    assert reply.choices[0].message.content == expected_content(expected)
    assert len(reply.model_extra["passage"]["retrieved"]) == 2


def test_openai_errors(openai_client):
    import openai

    with pytest.raises(openai.UnprocessableEntityError, match="^Error code: 422 - model: Input should be 'passage'$"):
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.BadRequestError, match="the messages hold no user message"):
        openai_client.chat.completions.create(model="passage", messages=[{"role": "system", "content": "Hi."}])
    with pytest.raises(openai.UnprocessableEntityError, match="messages: List should have at least 1 item"):
        openai_client.chat.completions.create(model="passage", messages=[])
    with pytest.raises(openai.AuthenticationError, match="wrong API key"):
        openai_client.with_options(api_key="nope").models.list()


# --- start-up and store failures ---------------------------------------------------------------

def test_a_bad_setting_or_an_unreachable_store_is_one_line(tmp_path):
    bad = subprocess.run([*PASSAGE, "serve", "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PASSAGE_K": "0"})
    assert (bad.returncode, bad.stderr) == (2, "error: invalid setting k: Input should be greater than or equal to 1\n")
    gone = subprocess.run([*PASSAGE, "serve", "--chroma-url", "http://127.0.0.1:9", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert gone.returncode == 2
    assert gone.stderr.startswith("error: cannot open the Chroma store at http://127.0.0.1:9: ")
    assert gone.stderr.count("\n") == 1


@pytest.mark.server
def test_a_store_lost_while_serving_gives_a_one_line_error(tmp_path, embedder, corpus_files):
    """Chroma stops under a running API: a question gets one JSON line and a 5xx, never a traceback."""
    from app.wiring import build_ingestor
    from passage.settings import Settings
    from tests.servers import free_port

    port = free_port()
    chroma_url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("chroma")), "run", "--path", str(tmp_path / "db"),
               "--host", "127.0.0.1", "--port", str(port)]
    settings = Settings(data_dir=tmp_path / "data", chroma_url=chroma_url, collection="lost")
    with (tmp_path / "chroma.log").open("wb") as log:
        chroma = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for(f"{chroma_url}/api/v2/heartbeat", chroma)
            assert not build_ingestor(settings, embedder).ingest([corpus_files / "leaving-north-korea.txt"]).failed
            env = {"PASSAGE_CHROMA_URL": chroma_url, "PASSAGE_COLLECTION": "lost"}
            with passage_serve(settings.data_dir, tmp_path / "server.log", env) as url:
                ask = {"question": QUESTION, "answerer": "extractive"}  # the store is under test, not the reader
                assert httpx.post(f"{url}/ask", json=ask, timeout=60).status_code == 200
                chroma.terminate()
                chroma.wait(timeout=30)
                reply = httpx.post(f"{url}/ask", json=ask, timeout=60)
                assert reply.status_code == 503, reply.text  # a store fault, not the 500 of a bug
                assert list(reply.json()) == ["error"] and "\n" not in reply.json()["error"]
                assert chroma_url in reply.json()["error"]  # the message names the store that failed
                assert "Traceback" not in reply.text
        finally:
            if chroma.poll() is None:
                chroma.kill()
                chroma.wait()


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.25)
    pytest.fail(f"{url} did not answer")
