"""The API answers a bounded number of questions at once: a real uvicorn server and real HTTP
clients, over a real index; the assistant in front of it holds each answer until the test lets
it go, so which request waits, runs or is refused is certain."""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

import httpx
import pytest
import uvicorn

from app.api.server import create_app
from app.wiring import Services, build_services
from passage.settings import Settings
from tests.conftest import WordsEmbedder
from tests.servers import free_port

ASK = {"question": "When does the ferry leave?", "answerer": "extractive"}


class HeldAssistant:
    """The real assistant, whose answers start only once `release` is set; `started` counts those begun."""

    def __init__(self, assistant):
        self.assistant = assistant
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def stream(self, *args, **kwargs):
        self.started.release()
        assert self.release.wait(60), "the test never released the answer"
        return self.assistant.stream(*args, **kwargs)


@contextlib.contextmanager
def server(tmp_path, **limits) -> Iterator[tuple[str, HeldAssistant]]:
    settings = Settings(data_dir=tmp_path / "data", **limits)
    real = build_services(settings, WordsEmbedder())
    (tmp_path / "ferry.md").write_text("# Ferry notes\n\nThe ferry leaves the harbour at dawn every Tuesday.\n")
    real.library.add([tmp_path / "ferry.md"])
    held = HeldAssistant(real.assistant)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(settings, Services(held, real.library)), port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", held
    finally:
        held.release.set()
        uv.should_exit = True
        thread.join(timeout=30)


class Asking(threading.Thread):
    """One client's POST in its own thread; `reply` once it has returned."""

    def __init__(self, url: str, path: str = "/ask", body: dict | None = None):
        super().__init__(daemon=True)
        self.url, self.path, self.body = url, path, body or ASK
        self.reply: httpx.Response | None = None
        self.start()

    def run(self):
        self.reply = httpx.post(self.url + self.path, json=self.body, timeout=60)


def begun(held: HeldAssistant) -> None:
    assert held.started.acquire(timeout=30), "no answer began"


def test_with_every_place_taken_and_no_queue_a_request_gets_503_with_retry_after(tmp_path):
    with server(tmp_path, serve_answers=1, serve_queue=0) as (url, held):
        first = Asking(url)
        begun(held)
        refused = httpx.post(url + "/ask", json=ASK, timeout=30)
        assert refused.status_code == 503
        assert refused.json()["error"].startswith("the server is busy: 1 answers at once and 0 waiting at most; try again in ")
        assert int(refused.headers["retry-after"]) >= 1
        openai = httpx.post(url + "/v1/chat/completions", timeout=30,
                            json={"model": "passage", "messages": [{"role": "user", "content": ASK["question"]}]})
        assert openai.status_code == 503 and openai.json()["error"]["message"].startswith("the server is busy")
        assert httpx.get(url + "/health", timeout=30).status_code == 200  # only answers queue
        held.release.set()
        first.join(30)
        assert first.reply.status_code == 200 and "Tuesday" in first.reply.json()["answer"]
        assert httpx.post(url + "/ask", json=ASK, timeout=30).status_code == 200


def test_a_request_waits_in_the_queue_while_there_is_room_and_no_longer_than_the_wait(tmp_path):
    with server(tmp_path, serve_answers=1, serve_queue=1, serve_queue_wait_s=30) as (url, held):
        first = Asking(url)
        begun(held)
        queued = Asking(url, body={**ASK, "stream": True})
        time.sleep(0.5)  # the second request is in the queue now
        assert queued.reply is None and held.started.acquire(timeout=0) is False
        refused = httpx.post(url + "/ask", json=ASK, timeout=30)  # the queue is full
        assert refused.status_code == 503 and "retry-after" in refused.headers
        held.release.set()
        first.join(30)
        queued.join(30)
        assert first.reply.status_code == 200
        assert queued.reply.status_code == 200 and "event: answer" in queued.reply.text

    with server(tmp_path / "short", serve_answers=1, serve_queue=4, serve_queue_wait_s=0.5) as (url, held):
        first = Asking(url)
        begun(held)
        began = time.monotonic()
        timed_out = httpx.post(url + "/ask", json=ASK, timeout=30)
        assert timed_out.status_code == 503 and 0.5 <= time.monotonic() - began < 10
        held.release.set()
        first.join(30)
        assert first.reply.status_code == 200
