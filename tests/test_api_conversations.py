"""Saved conversations over HTTP, against a real `passage serve` process on a copy of the ingested
corpus, driven with httpx; and the SQLite file after the server is killed mid-question."""
from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from app.conversations import ConversationStore
from passage.settings import Settings
from tests.api_server import passage_serve

pytestmark = pytest.mark.slow

KEY = "test-key-8d2e61a0"  # made up for these tests
UNKNOWN = "0" * 32
NOT_FOUND = {"error": f"no conversation '{UNKNOWN}'; GET /conversations or the chat's sidebar lists them"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, ingested_dir):
    folder = tmp_path_factory.mktemp("serve-conversations")
    shutil.copytree(ingested_dir, folder / "data")
    with passage_serve(folder / "data", folder / "server.log", {"PASSAGE_API_KEY": KEY}) as url:
        yield url, folder / "data"


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server[0], headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as c:
        yield c


def answer_part(data: dict) -> dict:
    """What an answer says, without how long it took."""
    return {k: v for k, v in data.items() if k != "timings_ms"}


def test_create_ask_follow_up_list_rename_export_and_delete(client):
    made = client.post("/conversations")
    assert made.status_code == 201
    conversation = made.json()
    assert {k: conversation[k] for k in ("title", "turns")} == {"title": "", "turns": 0}
    cid = conversation["id"]

    first = client.post("/ask", json={"question": "Tell me about Yeonmi Park.", "conversation": cid})
    follow = client.post("/ask", json={"question": "How old was she when she got out?", "conversation": cid})
    assert first.status_code == follow.status_code == 200
    assert "13" in follow.json()["answer"]
    same = client.post("/ask", json={"question": "How old was she when she got out?", "history": ["Tell me about Yeonmi Park."]})
    assert answer_part(follow.json()) == answer_part(same.json())  # the saved questions are the history

    listed = [c for c in client.get("/conversations").json() if c["id"] == cid]
    assert [(c["title"], c["turns"]) for c in listed] == [("Tell me about Yeonmi Park.", 2)]

    renamed = client.patch(f"/conversations/{cid}", json={"title": "  Yeonmi\nPark "})
    assert (renamed.status_code, renamed.json()["title"], renamed.json()["turns"]) == (200, "Yeonmi Park", 2)

    whole = client.get(f"/conversations/{cid}").json()
    assert whole["title"] == "Yeonmi Park" and whole["version"] == "0.1.0"
    assert [t["question"] for t in whole["turns"]] == ["Tell me about Yeonmi Park.", "How old was she when she got out?"]
    assert answer_part({k: v for k, v in whole["turns"][1].items()
                        if k not in ("asked_at", "answered_at", "low_confidence", "version", "settings")}) == answer_part(follow.json())
    turn = whole["turns"][1]
    assert turn["low_confidence"] == (turn["confidence"] is not None and turn["confidence"] < 0.5)
    assert turn["settings"]["answerer"] == "reader" and "api_key" not in turn["settings"]
    assert KEY not in json.dumps(whole)
    assert turn["asked_at"] <= turn["answered_at"]

    markdown = client.get(f"/conversations/{cid}/export")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Yeonmi Park\n\nExported ")
    assert "\n\n## How old was she when she got out?\n\nAsked " in markdown.text
    as_json = client.get(f"/conversations/{cid}/export", params={"format": "json"})
    assert json.loads(as_json.text)["turns"][0]["question"] == "Tell me about Yeonmi Park."
    assert as_json.headers["content-disposition"] == 'attachment; filename="passage-conversation.json"'

    gone = client.delete(f"/conversations/{cid}")
    assert (gone.status_code, gone.json()["id"], gone.json()["turns"]) == (200, cid, 2)
    assert client.get(f"/conversations/{cid}").status_code == 404
    assert cid not in [c["id"] for c in client.get("/conversations").json()]


def test_a_streamed_answer_is_saved_when_it_is_complete(client):
    cid = client.post("/conversations", json={"title": "Streams"}).json()["id"]
    with client.stream("POST", "/ask", json={"question": "Who can be considered a refugee?", "conversation": cid,
                                             "stream": True}) as reply:
        body = reply.read().decode()
    assert "event: answer" in body
    whole = client.get(f"/conversations/{cid}").json()
    assert (whole["title"], [t["question"] for t in whole["turns"]]) == ("Streams", ["Who can be considered a refugee?"])


def test_an_unrelated_question_after_earlier_turns_gets_the_fresh_chat_answer(client):
    """Earlier turns about one person must not pull a question on another subject toward them."""
    cid = client.post("/conversations").json()["id"]
    for question in ("Tell me about Yeonmi Park.", "How old was she when she got out?"):
        assert client.post("/ask", json={"question": question, "conversation": cid}).status_code == 200
    for unrelated in ("Does everyone have the right to leave any country?", "Who can be considered a refugee?"):
        in_chat = client.post("/ask", json={"question": unrelated, "conversation": cid}).json()
        fresh = client.post("/ask", json={"question": unrelated}).json()
        assert answer_part(in_chat) == answer_part(fresh)


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"/conversations/{UNKNOWN}", None),
    ("GET", f"/conversations/{UNKNOWN}/export", None),
    ("PATCH", f"/conversations/{UNKNOWN}", {"title": "x"}),
    ("DELETE", f"/conversations/{UNKNOWN}", None),
    ("POST", "/ask", {"question": "Who is Yeonmi Park?", "conversation": UNKNOWN}),
    ("POST", "/ask", {"question": "Who is Yeonmi Park?", "conversation": UNKNOWN, "stream": True}),
])
def test_unknown_ids_get_404_and_one_line(client, method, path, body):
    reply = client.request(method, path, json=body)
    assert (reply.status_code, reply.json()) == (404, NOT_FOUND)


def test_odd_ids_get_404_one_line(client):
    for cid in ("nope", "x" * 3000, "..%2F..%2Fetc", "%00"):
        reply = client.get(f"/conversations/{cid}")
        assert reply.status_code == 404
        assert "\n" not in reply.json()["error"] and len(reply.json()["error"]) < 200


@pytest.mark.parametrize("title, status, error", [
    ("", 400, "the title is empty; give the conversation a name"),
    ("   ", 400, "the title is empty; give the conversation a name"),
    ("x" * 201, 400, "the title is too long (201 characters; the limit is 200)"),
    ("x" * 100_000, 400, "the title is too long (100000 characters; the limit is 200)"),
    ("\x00\x01binary\x7f", 400, "the title holds control characters or is not text; use plain words"),
    ("\ud800", 400, "the title holds control characters or is not text; use plain words"),
    (12, 422, "title: Input should be a valid string"),
    (None, 422, "title: Input should be a valid string"),
])
def test_bad_titles_get_one_line_and_change_nothing(client, title, status, error):
    cid = client.post("/conversations", json={"title": "kept"}).json()["id"]
    reply = client.patch(f"/conversations/{cid}", content=json.dumps({"title": title}),
                         headers={"Content-Type": "application/json"})
    assert (reply.status_code, reply.json()) == (status, {"error": error})
    assert client.get(f"/conversations/{cid}").json()["title"] == "kept"
    if status == 400 and title:
        made = client.post("/conversations", content=json.dumps({"title": title}), headers={"Content-Type": "application/json"})
        assert (made.status_code, made.json()) == (status, {"error": error})


def test_malformed_bodies_get_one_line_and_create_nothing(client):
    before = client.get("/conversations").json()
    cid = client.post("/conversations", json={"title": "kept"}).json()["id"]
    headers = {"Content-Type": "application/json"}
    cases = [
        (client.post("/conversations", content=b"{not json", headers=headers),
         422, "the body is not valid JSON (Expecting property name enclosed in double quotes)"),
        (client.post("/conversations", content=b'{"title": "\xff\xfe"}', headers=headers),
         400, "There was an error parsing the body"),
        (client.post("/conversations", json={"title": "a", "colour": "red"}), 422, "colour: Extra inputs are not permitted"),
        (client.patch(f"/conversations/{cid}", content=b"[1, 2", headers=headers), 422, None),
        (client.patch(f"/conversations/{cid}", json={}), 422, "title: Field required"),
        (client.post("/conversations", content=b"x" * (1024 * 1024 + 1), headers=headers),
         413, "the request body is larger than the limit of 1048576 bytes"),
        (client.post("/ask", json={"question": "q", "conversation": cid, "history": ["a"]}),
         422, "Value error, pass either history or conversation, not both"),
        (client.post("/ask", json={"question": "q", "conversation": "x" * 65}),
         422, "conversation: String should have at most 64 characters"),
        (client.get(f"/conversations/{cid}/export", params={"format": "pdf"}), 422, "format: Input should be 'markdown' or 'json'"),
    ]
    for reply, status, error in cases:
        assert reply.status_code == status, reply.text
        assert list(reply.json()) == ["error"] and "\n" not in reply.json()["error"]
        if error:
            assert reply.json()["error"] == error
    after = client.get("/conversations").json()
    assert len(after) == len(before) + 1
    assert client.get(f"/conversations/{cid}").json()["turns"] == []


def test_the_routes_need_the_api_key(server):
    with httpx.Client(base_url=server[0], timeout=30) as anonymous:
        for method, path in (("GET", "/conversations"), ("POST", "/conversations"), ("GET", f"/conversations/{UNKNOWN}"),
                             ("DELETE", f"/conversations/{UNKNOWN}")):
            assert anonymous.request(method, path).status_code == 401


# --- a server killed while a question is answered ------------------------------------------------

class SilentLLM:
    """A loopback port that accepts connections and never answers: the LLM answerer waits on it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.connected.set()

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_a_server_killed_while_answering_keeps_the_saved_turns_and_nothing_half_written(tmp_path, ingested_dir):
    """SIGKILL while the follow-up waits on its answer: the conversation reopens with the first turn
    only, and the SQLite file is intact."""
    import os

    from tests.api_server import PASSAGE
    from tests.servers import free_port, serve

    data_dir = tmp_path / "data"
    shutil.copytree(ingested_dir, data_dir)
    store = ConversationStore(Settings(data_dir=data_dir).conversations_db)
    llm = SilentLLM()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PASSAGE_LLM_BASE_URL": f"http://127.0.0.1:{llm.port}/v1",
           "PASSAGE_LLM_TIMEOUT_S": "600"}
    command = [*PASSAGE, "serve", "--port", str(port), "--data-dir", str(data_dir)]
    try:
        with serve(command, f"{url}/health", tmp_path / "server.log", seconds=240, cwd=tmp_path, env=env) as proc, \
                httpx.Client(base_url=url, timeout=120) as client:
            cid = client.post("/conversations").json()["id"]
            assert client.post("/ask", json={"question": "Tell me about Yeonmi Park.", "conversation": cid}).status_code == 200
            result: dict = {}

            def ask_llm():
                try:
                    result["reply"] = client.post("/ask", json={"question": "How old was she when she got out?",
                                                                "conversation": cid, "answerer": "llm"})
                except httpx.HTTPError as exc:
                    result["error"] = exc

            asking = threading.Thread(target=ask_llm)
            asking.start()
            assert llm.connected.wait(60), "the LLM answerer never called the model"
            proc.kill()  # SIGKILL: no handler, no clean-up
            proc.wait(30)
            asking.join(30)
            assert "reply" not in result and "error" in result  # the client saw the connection drop, not an answer
    finally:
        llm.close()
    reopened = ConversationStore(store.path).get(cid)
    assert [t.question for t in reopened.turns] == ["Tell me about Yeonmi Park."]
    assert reopened.turns[0].answer is not None and reopened.title == "Tell me about Yeonmi Park."
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


WRITER = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from app.conversations import ConversationStore, Turn
store = ConversationStore(Path(sys.argv[1]))
cid = sys.argv[2]
now = datetime.now(timezone.utc)
print("ready", flush=True)
while True:
    store.append(cid, Turn("q" * 2000, now, now, error="e" * 200_000, settings={"k": 5}))
"""


def test_a_writer_killed_mid_transaction_leaves_whole_turns_only(tmp_path):
    """A process appending large turns as fast as it can, SIGKILLed at different moments: each time
    the file is intact and holds whole turns numbered without gaps, never fewer than before."""
    import subprocess
    import sys
    import time

    store = ConversationStore(tmp_path / "conversations.sqlite")
    cid = store.create("busy").id
    seen = 0
    for delay in (0.05, 0.13, 0.31, 0.47, 0.8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.path), cid], cwd=Path(__file__).resolve().parent.parent,
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
        writer.kill()
        writer.wait()
        writer.stdout.close()
        with sqlite3.connect(store.path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            numbers = [n for (n,) in db.execute("SELECT n FROM turns WHERE conversation = ? ORDER BY n", (cid,))]
        turns = ConversationStore(store.path).get(cid).turns
        assert numbers == list(range(len(turns)))
        assert all(t.error == "e" * 200_000 and t.question == "q" * 2000 for t in turns)
        assert len(turns) >= seen
        seen = len(turns)
    assert seen > 0
