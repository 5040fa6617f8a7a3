"""OpenAI's chat completions API in front of the assistant, so OpenAI clients and chat UIs can ask.

The last user message is the question and the earlier user messages are its history (the
assistant's own turns are not needed: follow-ups are rewritten from the questions). The
reply's content is the answer with its [n] markers, then the sources as a numbered list;
the whole `passage ask --json` object rides along in a top-level `passage` field. With
`stream: true` the reply comes as `chat.completion.chunk` events ending in `data: [DONE]`:
the answerer's text pieces, then the sources, then a last chunk with the finish reason and
the `passage` object. There is one model, `passage`; `k`, `mode`, `source` and `answerer`
may be added to a request (the OpenAI client's `extra_body`).
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Iterator, Sequence

from fastapi import APIRouter, Request

from app.render import answer_json
from passage.errors import InputError
from passage.models import Answer, section_label

from .errors import OPENAI_ERRORS
from .schemas import ChatMessage, ChatRequest
from .streaming import event, sse_response, started

MODEL = "passage"  # the one value schemas.ChatRequest.model accepts
CREATED = 1767225600  # 2026-01-01: fixed, so the model list never changes


def router() -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["openai"])

    @api.get("/models", responses=OPENAI_ERRORS)
    def models() -> dict:
        """The one model, `passage`."""
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": CREATED, "owned_by": "passage"}]}

    @api.post("/chat/completions", responses={200: {"content": {"text/event-stream": {}}}, **OPENAI_ERRORS})
    def chat_completions(body: ChatRequest, request: Request):
        """Answer the last user message, citing sections; OpenAI's request and reply format."""
        question, history = conversation(body.messages)
        pieces = request.app.state.services.assistant.stream(question, history, **body.as_kwargs())
        reply = Reply(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))
        if not body.stream:
            *_, answer = pieces
            return reply.completion(answer)
        return sse_response(reply.chunks(started(pieces)), request.url.path, error_event=None)

    return api


def conversation(messages: Sequence[ChatMessage]) -> tuple[str, list[str]]:
    """The last user message and the user messages before it."""
    questions = [m.text() for m in messages if m.role == "user"]
    if not questions:
        raise InputError("the messages hold no user message; the last user message is the question")
    return questions[-1], questions[:-1]


def sources_text(answer: Answer) -> str:
    """What follows the answer text: "\\n\\nSources:\\n[1] Leaving North Korea > Escape", or the related passages."""
    blocks = [f"Note: {answer.notice}"] if answer.notice else []
    if answer.citations:
        blocks.append("\n".join(["Sources:"] + [f"[{c.n}] {section_label(c.passage.chunk.title, c.passage.chunk.section)}"
                                                for c in answer.citations]))
    elif answer.abstained and answer.retrieved:
        blocks.append("\n".join(["Related passages:"] + [f"- {section_label(p.chunk.title, p.chunk.section)}"
                                                         for p in answer.retrieved]))
    return "".join(f"\n\n{block}" for block in blocks)


class Reply:
    """One completion's id and time, shared by all its chunks."""

    def __init__(self, id: str, created: int):
        self.id = id
        self.created = created

    def completion(self, answer: Answer) -> dict:
        message = {"role": "assistant", "content": answer.text + sources_text(answer)}
        return {**self._head("chat.completion"), "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "passage": answer_json(answer)}

    def chunks(self, pieces: Iterator[str | Answer]) -> Iterator[bytes]:
        yield self._chunk({"role": "assistant", "content": ""})
        for piece in pieces:
            if isinstance(piece, Answer):
                tail = sources_text(piece)
                if tail:
                    yield self._chunk({"content": tail})
                yield self._chunk({}, "stop", passage=answer_json(piece))
            elif piece:
                yield self._chunk({"content": piece})
        yield event("[DONE]")

    def _chunk(self, delta: dict, finish_reason: str | None = None, **extra) -> bytes:
        data = {**self._head("chat.completion.chunk"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra}
        return event(json.dumps(data, ensure_ascii=False))

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": MODEL}
