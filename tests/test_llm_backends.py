"""The chat-model backends configured from settings, their failures as one line, and the API key
never shown: a real local HTTP endpoint that refuses the key, no model."""
from __future__ import annotations

import json
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from langchain_core.messages import HumanMessage

from app.render import answer_json
from passage.errors import ConfigError
from passage.settings import Settings
from rag.extractive import ExtractiveAnswerer
from rag.llm import build_llm_answerer, make_chat_model
from rag.llm.backends import CompatibleChatOpenAI, failure_reason
from tests.conftest import WordsEmbedder
from tests.llm_cases import PASSAGES, QUESTION, found

SECRET = "sk-test-5ecret-do-not-show"


@pytest.fixture(scope="module")
def extractive():
    return ExtractiveAnswerer(WordsEmbedder(), max_sentences=2, abstain_below=0.2)


def test_openai_backend_is_configured_from_settings():
    model = make_chat_model(Settings(llm_base_url="http://127.0.0.1:8080/v1", llm_model="gemma", llm_timeout_s=7,
                                     llm_max_tokens=64, llm_api_key=SECRET))
    assert isinstance(model, CompatibleChatOpenAI)
    assert (model.model_name, model.openai_api_base, model.request_timeout, model.max_retries) == (
        "gemma", "http://127.0.0.1:8080/v1", 7, 0)
    payload = model._get_request_payload([HumanMessage("hi")])
    assert payload["max_tokens"] == 64 and "max_completion_tokens" not in payload
    assert SECRET not in repr(model) and SECRET not in str(model.model_dump())


def test_ollama_backend_is_configured_from_settings():
    model = make_chat_model(Settings(llm_backend="ollama", llm_model="gemma3:270m", llm_max_tokens=64))
    assert type(model).__name__ == "ChatOllama" and (model.model, model.num_predict) == ("gemma3:270m", 64)


def test_llamacpp_backend_needs_an_existing_gguf_file(tmp_path):
    with pytest.raises(ConfigError, match="PASSAGE_LLM_MODEL_PATH"):
        make_chat_model(Settings(llm_backend="llamacpp"))
    with pytest.raises(ConfigError, match="is not a file"):
        make_chat_model(Settings(llm_backend="llamacpp", llm_model_path=tmp_path / "missing.gguf"))


def test_llamacpp_backend_without_the_package_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ConfigError, match=r"pip install 'passage\[llm\]'"):
        make_chat_model(Settings(llm_backend="llamacpp", llm_model_path=tmp_path / "m.gguf"))


@pytest.mark.parametrize(("error", "reason"), [
    (TimeoutError("timed out"), "no reply within 60s"),
    (ConnectionError("refused"), "cannot reach http://h:1/v1"),
    (ValueError("Requested tokens (5000) exceed context window of 4096"), "the prompt does not fit the model's context window"),
    (RuntimeError(f"bad key {SECRET}\nsecond line"), "RuntimeError: bad key ***"),
])
def test_failure_reasons_are_one_line_without_the_key(error, reason):
    assert failure_reason(error, Settings(llm_base_url="http://h:1/v1", llm_api_key=SECRET)) == reason


@pytest.fixture
def refusing_server():
    """An OpenAI-compatible endpoint that rejects every key, echoing it like some servers do."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            body = json.dumps({"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error",
                                         "code": "invalid_api_key"}}).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_a_wrong_key_falls_back_and_the_key_is_never_shown_or_logged(extractive, refusing_server, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP clients' included
    settings = Settings(llm_base_url=refusing_server, llm_api_key=SECRET)
    answerer = build_llm_answerer(settings, extractive)
    *pieces, answer = answerer.stream(QUESTION, found(QUESTION, PASSAGES))
    assert answer.notice == f"LLM unavailable ({refusing_server} refused the API key); showing the extractive answer"
    shown = json.dumps(answer_json(answer)) + "".join(pieces) + caplog.text + repr(answerer.model) + repr(settings)
    assert SECRET not in shown and SECRET not in str(settings.model_dump())
    assert "LLM unavailable" in caplog.text
