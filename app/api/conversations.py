"""Saved conversations over HTTP: list, create, read, rename, delete and export them, and ask in one.

The routes are plain `def`s over the same SQLite store as the web chat (app/conversations.py),
so a chat begun in the browser can go on over the API and the other way round. `POST /ask`
with `"conversation": id` asks with that conversation's earlier questions as the history and
appends the turn once the answer is complete; a request that fails, or a server that dies
before the answer, adds nothing.
"""
from __future__ import annotations

from typing import Iterator, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.conversations import Conversation, ConversationStore, make_turn, now, settings_used
from app.export import conversation_json, stamp, to_json, to_markdown
from passage.models import Answer
from rag.assistant import Assistant

from .errors import ERRORS

CONVERSATION_DOC = """The conversation as `passage export --json` writes it: `id`, `title`, `created_at`, `updated_at`,
`exported_at`, `version` and `turns`, each the object `POST /ask` returns plus `asked_at`, `answered_at`,
`low_confidence`, `version` and `settings` (a failed turn: `question` and `error`)."""


class ConversationOut(BaseModel):
    """A saved conversation without its turns."""

    id: str
    title: str = Field(description="From the first question unless renamed; empty until the first question.")
    created_at: str
    updated_at: str
    turns: int = Field(description="How many questions it holds.")


class NewConversation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", description="A name; empty takes the first question's words.")


class Rename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="The new name (1 to 200 characters on one line).")


def store(request: Request) -> ConversationStore:
    """The conversations of the server's data folder, opened on first use."""
    state = request.app.state
    if getattr(state, "conversations", None) is None:
        state.conversations = ConversationStore(state.settings.conversations_db)
    return state.conversations


def summary(c: Conversation) -> dict:
    return {"id": c.id, "title": c.title, "created_at": stamp(c.created_at), "updated_at": stamp(c.updated_at),
            "turns": c.turn_count}


def router() -> APIRouter:
    router = APIRouter(prefix="/conversations", tags=["conversations"])

    @router.get("", response_model=list[ConversationOut], responses=ERRORS)
    def list_conversations(request: Request) -> list[dict]:
        """Every saved conversation, most recently changed first."""
        return [summary(c) for c in store(request).list()]

    @router.post("", response_model=ConversationOut, status_code=201, responses=ERRORS)
    def create_conversation(request: Request, body: NewConversation | None = None) -> dict:
        """Start an empty conversation; ask in it with `POST /ask` and `"conversation": id`."""
        return summary(store(request).create((body or NewConversation()).title))

    @router.get("/{conversation_id}", responses={200: {"description": CONVERSATION_DOC}, **ERRORS})
    def get_conversation(conversation_id: str, request: Request) -> dict:
        """One conversation with every turn, its times, confidence and the settings it was answered under."""
        return conversation_json(store(request).get(conversation_id))

    @router.get("/{conversation_id}/export", responses={200: {"content": {"text/markdown": {}, "application/json": {}}},
                                                          **ERRORS})
    def export_conversation(conversation_id: str, request: Request,
                            format: Literal["markdown", "json"] = Query("markdown", description="markdown or json.")) -> Response:
        """The conversation as a file to keep, what `passage export` writes."""
        conversation = store(request).get(conversation_id)
        if format == "json":
            return Response(to_json(conversation), media_type="application/json",
                            headers={"Content-Disposition": 'attachment; filename="passage-conversation.json"'})
        return Response(to_markdown(conversation), media_type="text/markdown; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="passage-conversation.md"'})

    @router.patch("/{conversation_id}", response_model=ConversationOut, responses=ERRORS)
    def rename_conversation(conversation_id: str, body: Rename, request: Request) -> dict:
        """Rename a conversation."""
        return summary(store(request).rename(conversation_id, body.title))

    @router.delete("/{conversation_id}", response_model=ConversationOut, responses=ERRORS)
    def delete_conversation(conversation_id: str, request: Request) -> dict:
        """Delete a conversation and its turns; returns what was deleted."""
        conversations = store(request)
        gone = conversations.get(conversation_id)
        conversations.delete(conversation_id)
        return summary(gone)

    return router


def ask_in(request: Request, assistant: Assistant, question: str, conversation_id: str, **options) -> Iterator[str | Answer]:
    """`assistant.stream` with the conversation's questions as history; the final Answer is saved
    as a turn before it is passed on. An unknown conversation raises here, before any answering."""
    conversations = store(request)
    history = conversations.get(conversation_id).questions
    used = settings_used(request.app.state.settings, **options)
    asked_at = now()
    pieces = assistant.stream(question, history, **options)

    def saving() -> Iterator[str | Answer]:
        for piece in pieces:
            if isinstance(piece, Answer):
                conversations.append(conversation_id, make_turn(piece.question, asked_at, piece, settings=used))
            yield piece

    return saving()
