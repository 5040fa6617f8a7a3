"""`passage serve` with the default settings (loopback, no key) against what a web page or a
rebound DNS name can send, on a real server through httpx: cross-site writes and foreign host
names are refused in one line and the index stays as it was; a server listening beyond
loopback without a key answers but does not add or remove documents."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.api_server import passage_serve

pytestmark = pytest.mark.slow

QUESTION = "How old was Yeonmi Park when she escaped?"
FORGED = ("forged.md", b"# Forged\n\nThe covenant was repealed in 2020.\n", "text/markdown")


class Server(NamedTuple):
    url: str
    data_dir: Path


def _copy(tmp_path_factory, ingested_dir, name: str) -> Path:
    folder = tmp_path_factory.mktemp(name)
    shutil.copytree(ingested_dir, folder / "data")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, ingested_dir) -> Server:
    folder = _copy(tmp_path_factory, ingested_dir, "guard")
    with passage_serve(folder / "data", folder / "server.log") as url:
        yield Server(url, folder / "data")


@pytest.fixture(scope="module")
def exposed(tmp_path_factory, ingested_dir) -> Server:
    folder = _copy(tmp_path_factory, ingested_dir, "exposed")
    with passage_serve(folder / "data", folder / "server.log", None, "--host", "0.0.0.0") as url:
        yield Server(url, folder / "data")


def listing(url: str) -> list[tuple[str, int]]:
    return [(d["source"], d["chunks"]) for d in httpx.get(f"{url}/documents", timeout=60).json()]


@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:5555", "Sec-Fetch-Site": "same-site"},  # another port of this machine
    {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://evil.example"},  # a browser that sends no Sec-Fetch-Site
    {"Origin": "null"},  # a sandboxed frame, a file:// page
])
def test_a_cross_site_write_is_refused_and_changes_nothing(server, headers):
    before = listing(server.url)
    upload = httpx.post(f"{server.url}/documents", files={"files": FORGED}, headers=headers, timeout=60)
    removal = httpx.delete(f"{server.url}/documents/iccpr", headers=headers, timeout=60)
    chat = httpx.post(f"{server.url}/v1/chat/completions", headers=headers, timeout=60,
                      json={"model": "passage", "messages": [{"role": "user", "content": QUESTION}]})
    for reply in (upload, removal):
        assert reply.status_code == 403
        assert reply.json()["error"].startswith("cross-site request refused: a web page ")
    assert chat.status_code == 403 and chat.json()["error"]["type"] == "invalid_request_error"
    assert listing(server.url) == before
    assert not (server.data_dir / "uploads" / "forged.md").exists()


def test_same_origin_and_script_writes_pass(server):
    same = {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}  # the API docs' "Try it out"
    assert httpx.post(f"{server.url}/ask", json={"question": QUESTION}, headers=same, timeout=120).status_code == 200
    assert httpx.post(f"{server.url}/ask", json={"question": QUESTION}, headers={"Origin": server.url},
                      timeout=120).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:80", "192.168.1.4:8765", ""])
def test_a_foreign_host_name_is_refused(server, host):
    """DNS rebinding: a page's own name resolved to 127.0.0.1 reaches the server with that name as Host."""
    for method, path in (("GET", "/documents"), ("POST", "/ask"), ("GET", "/v1/models")):
        reply = httpx.request(method, f"{server.url}{path}", json={"question": QUESTION}, headers={"Host": host}, timeout=60)
        assert reply.status_code == 400, (path, reply.text)
        assert "this server does not answer to the host name" in reply.text and "\n" not in reply.text


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_host_names_are_answered(server, host):
    port = server.url.rsplit(":", 1)[1]
    assert httpx.get(f"{server.url}/health", headers={"Host": f"{host}:{port}"}, timeout=60).status_code == 200


def test_documents_are_listed_by_file_name(server):
    paths = [d["path"] for d in httpx.get(f"{server.url}/documents", timeout=60).json()]
    assert "leaving-north-korea.txt" in paths and not any("/" in p for p in paths)


def test_a_lone_surrogate_in_a_chat_message_is_one_line(server):
    body = b'{"model": "passage", "messages": [{"role": "user", "content": "How old \\ud800?"}]}'
    parts = b'{"model": "passage", "messages": [{"role": "user", "content": [{"type": "text", "text": "\\udcff"}]}]}'
    for content in (body, parts):
        reply = httpx.post(f"{server.url}/v1/chat/completions", content=content, headers={"Content-Type": "application/json"},
                           timeout=60)
        assert reply.status_code == 422, reply.text
        assert reply.json()["error"]["message"] == ("messages.0: Value error, holds a lone surrogate (an escape such as "
                                                    "\\ud800 without its pair); send valid UTF-8 text")


def test_an_over_long_history_entry_is_named(server):
    reply = httpx.post(f"{server.url}/ask", json={"question": QUESTION, "history": ["Yeonmi Park?", "x" * 2001]}, timeout=60)
    assert (reply.status_code, reply.json()) == (400, {"error": "history entry 2 is too long (2001 characters; the limit is 2000)"})


def test_beyond_loopback_without_a_key_questions_are_answered_but_documents_stay(exposed):
    before = listing(exposed.url)
    assert httpx.post(f"{exposed.url}/ask", json={"question": QUESTION}, timeout=120).status_code == 200
    refused = "this server listens beyond loopback without an API key, so it does not add or remove documents; " \
              "restart it with PASSAGE_API_KEY set"
    upload = httpx.post(f"{exposed.url}/documents", files={"files": FORGED}, timeout=60)
    removal = httpx.delete(f"{exposed.url}/documents/iccpr", timeout=60)
    assert [(r.status_code, r.json()) for r in (upload, removal)] == [(403, {"error": refused})] * 2
    assert listing(exposed.url) == before
    assert httpx.get(f"{exposed.url}/health", headers={"Host": "passage.example.org"}, timeout=60).status_code == 200
