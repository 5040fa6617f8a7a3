"""Property tests over the API's request models: whatever JSON a client sends, a request is
either refused with one line that can be sent back (no lone surrogate in it), or every text it
hands the assistant is valid UTF-8, so nothing downstream (the tokenizer, the reply) fails
with a 500. JSON's "\\ud800" escapes make lone surrogates, so the texts here hold them too."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.errors import error_body, validation_line
from app.api.openai_compat import conversation
from app.api.schemas import AskRequest, ChatRequest
from passage.errors import InputError

# st.text() never yields a lone surrogate, whatever its alphabet: join characters instead
texts = st.lists(st.characters() | st.characters(categories=["Cs"]), max_size=12).map("".join)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
                           max_leaves=8)
ask_bodies = st.fixed_dictionaries({}, optional={
    "question": texts | json_values, "history": st.lists(texts, max_size=3) | json_values, "source": texts | json_values,
    "k": st.integers(0, 60) | json_values, "mode": st.sampled_from(["hybrid", "dense", "bm25"]) | json_values,
    "answerer": st.sampled_from(["reader", "extractive", "llm"]) | json_values, "stream": st.booleans() | json_values,
}) | st.dictionaries(texts, json_values, max_size=3)
parts = st.fixed_dictionaries({"type": st.just("text") | texts, "text": texts | json_values})
messages = st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant"])},
                                 optional={"content": texts | st.lists(parts, max_size=3), "name": texts})
chat_bodies = st.fixed_dictionaries({"model": st.just("passage"), "messages": st.lists(messages, min_size=1, max_size=4)},
                                    optional={"stream": st.booleans(), "k": st.integers(0, 60), "temperature": json_values})
junk_chat_bodies = st.fixed_dictionaries({"model": st.just("passage") | texts, "messages": json_values},
                                         optional={"stream": json_values, "source": json_values})


def is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def assert_sendable(message: str, path: str) -> None:
    """One line that a JSON response can carry."""
    assert "\n" not in message and message.strip()
    json.dumps(error_body(path, 422, message), ensure_ascii=False).encode("utf-8")


@settings(max_examples=300, deadline=None)
@given(ask_bodies)
def test_an_ask_request_is_refused_in_one_line_or_holds_only_utf8(body):
    try:
        request = AskRequest.model_validate(body)
    except ValidationError as exc:
        assert_sendable(validation_line(exc.errors()), "/ask")
        return
    assert all(is_utf8(text) for text in [request.question, *request.history, request.source or ""])


@settings(max_examples=300, deadline=None)
@given(chat_bodies | junk_chat_bodies)
def test_a_chat_request_is_refused_in_one_line_or_holds_only_utf8(body):
    try:
        request = ChatRequest.model_validate(body)
        question, history = conversation(request.messages)
    except ValidationError as exc:
        assert_sendable(validation_line(exc.errors()), "/v1/chat/completions")
        return
    except InputError as exc:
        assert_sendable(str(exc), "/v1/chat/completions")
        return
    assert all(is_utf8(text) for text in [question, *history, request.source or ""])


def test_a_lone_surrogate_in_a_chat_message_is_named():
    body = {"model": "passage", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi \ud800"}]}]}
    try:
        ChatRequest.model_validate(body)
    except ValidationError as exc:
        assert validation_line(exc.errors()) == (
            "messages.0: Value error, holds a lone surrogate (an escape such as \\ud800 without its pair); send valid UTF-8 text")
    else:
        raise AssertionError("accepted a lone surrogate")
