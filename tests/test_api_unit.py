"""The API's pure parts, with exact values: error bodies and statuses, SSE framing, the
OpenAI reply and its chunks, the conversation a chat request holds."""
from __future__ import annotations

import json

import pytest

from app.api.errors import TooLarge, error_body, status_of, validation_line
from app.api.limits import too_large
from app.api.openai_compat import Reply, conversation, sources_text
from app.api.schemas import ChatMessage
from app.api.security import is_loopback
from app.api.streaming import event, started
from app.render import answer_json
from passage.errors import ConfigError, EmptyIndexError, InputError, LoadError, NotFoundError, StoreError
from passage.models import Answer, Chunk, Citation, Passage
from tests.api_server import sse_events

CHUNK = Chunk("c1", "leaving-north-korea", "Leaving North Korea", "Leaving North Korea > Escape", "She was 13.", 10, 21, None, 6, "")
PASSAGE = Passage(CHUNK, 0.5)
ANSWER = Answer("How old?", "She was 13. [1]", False, (Citation(1, PASSAGE, ("She was 13.",)),), (PASSAGE,))
ABSTAINED = Answer("Capital of France?", "The documents do not answer this.", True, (), (PASSAGE,))


@pytest.mark.parametrize("exc, status", [
    (InputError("x"), 400), (LoadError("a.pdf", "empty"), 400), (TooLarge("x"), 413), (NotFoundError("x"), 404),
    (EmptyIndexError(), 409), (ConfigError("x"), 500), (StoreError("x"), 503),
])
def test_status_of_domain_errors(exc, status):
    assert status_of(exc) == status


def test_error_bodies():
    assert error_body("/ask", 400, "bad\n  question") == {"error": "bad question"}
    assert error_body("/v1/chat/completions", 404, "unknown model") == \
        {"error": {"message": "unknown model", "type": "invalid_request_error", "param": None, "code": None}}
    assert error_body("/v1/models", 401, "wrong API key")["error"]["type"] == "authentication_error"
    assert error_body("/v1/models", 503, "down")["error"]["type"] == "server_error"
    assert error_body("/ask", 400, "x" * 5000) == {"error": "x" * 1000}
    assert too_large(1024) == "the request body is larger than the limit of 1024 bytes"


def test_validation_line():
    assert validation_line([{"type": "missing", "loc": ("body", "question"), "msg": "Field required"}]) == "question: Field required"
    assert validation_line([{"type": "x", "loc": ("body", "messages", 0, "role"), "msg": "bad"}]) == "messages.0.role: bad"
    assert validation_line([{"type": "json_invalid", "loc": ("body", 1), "msg": "JSON decode error",
                             "ctx": {"error": "Expecting value"}}]) == "the body is not valid JSON (Expecting value)"
    assert validation_line([{"type": "x", "loc": ("body",), "msg": "Input should be a valid dictionary"}]) == \
        "Input should be a valid dictionary"
    assert validation_line([]) == "invalid request"


def test_events_and_started():
    assert event("a\nb", "answer") == b"event: answer\ndata: a\ndata: b\n\n"
    assert sse_events((event(" lead") + event("x\ny", "answer")).decode()) == [("message", " lead"), ("answer", "x\ny")]
    with pytest.raises(InputError):
        started(_raises())
    assert list(started(iter([1, 2]))) == [1, 2]


def _raises():
    raise InputError("bad")
    yield  # pragma: no cover


def test_loopback():
    assert [is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "192.168.1.4", "example.org")] == \
        [True, True, True, False, False, False]


def test_sources_text():
    assert sources_text(ANSWER) == "\n\nSources:\n[1] Leaving North Korea > Escape"
    assert sources_text(ABSTAINED) == "\n\nRelated passages:\n- Leaving North Korea > Escape"
    noted = Answer("q", "t", False, (), (), notice="LLM unavailable (x); showing the extractive answer")
    assert sources_text(noted) == "\n\nNote: LLM unavailable (x); showing the extractive answer"


def test_conversation_takes_the_user_messages():
    messages = [ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Tell me about Yeonmi Park."),
                ChatMessage(role="assistant", content="She escaped."),
                ChatMessage(role="user", content=[{"type": "text", "text": "How old"}, {"type": "image_url"},
                                                  {"type": "text", "text": "was she?"}])]
    assert conversation(messages) == ("How old was she?", ["Tell me about Yeonmi Park."])
    with pytest.raises(InputError, match="^the messages hold no user message"):
        conversation([ChatMessage(role="system", content="Hi.")])


def test_reply_and_its_chunks():
    reply = Reply("chatcmpl-1", 1700000000)
    assert reply.completion(ANSWER) == {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "passage",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "She was 13. [1]\n\nSources:\n[1] Leaving North Korea > Escape"},
                     "finish_reason": "stop"}],
        "passage": answer_json(ANSWER)}
    events = sse_events(b"".join(reply.chunks(iter(["She was 13.", " [1]", ANSWER]))).decode())
    assert events[-1] == ("message", "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""}, {"content": "She was 13."}, {"content": " [1]"},
        {"content": "\n\nSources:\n[1] Leaving North Korea > Escape"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, None, "stop"]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and {c["id"] for c in chunks} == {"chatcmpl-1"}
    assert chunks[-1]["passage"] == answer_json(ANSWER) and "passage" not in chunks[0]


def _body(response) -> str:
    import asyncio

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.body_iterator])

    return asyncio.run(collect()).decode()


def test_a_failure_mid_stream_ends_it_with_an_error_event():
    from app.api.streaming import sse_response

    def pieces(error: Exception):
        yield event("She was")
        raise error

    ask = sse_response(pieces(StoreError("cannot reach the Chroma server")), "/ask")
    assert sse_events(_body(ask)) == [("message", "She was"), ("error", '{"error": "cannot reach the Chroma server"}')]
    chat = sse_response(pieces(RuntimeError("boom")), "/v1/chat/completions", error_event=None)
    assert sse_events(_body(chat))[-1] == ("message", json.dumps({"error": {
        "message": "internal error; the server log has the details", "type": "server_error", "param": None, "code": None}}))
