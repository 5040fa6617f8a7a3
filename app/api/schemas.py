"""What the API's routes accept and return, as pydantic models (they are the OpenAPI schema too).

Answers are not modelled here: `/ask` returns `app.render.answer_json`, the object
`passage ask --json` prints, so the two can never drift apart.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from passage.settings import AnswererName, Mode
from rag.assistant import MAX_QUESTION_CHARS

MAX_HISTORY = 50


def unicode_text(text: str) -> str:
    """`text` when it encodes as UTF-8. JSON's "\\ud800" escape decodes to a lone surrogate, which pydantic lets
    through a plain `str` field and nothing downstream (the tokenizer, the response) can encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("holds a lone surrogate (an escape such as \\ud800 without its pair); send valid UTF-8 text") from None
    return text


Text = Annotated[str, AfterValidator(unicode_text)]


class AskOptions(BaseModel):
    """How to answer; unset fields take the server's settings."""

    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default PASSAGE_K).")
    mode: Mode | None = Field(None, description="Retrieval mode (default PASSAGE_MODE).")
    source: Text | None = Field(None, min_length=1, max_length=200, description="Only search this document (its name as GET /documents lists it).")
    answerer: AnswererName | None = Field(None, description="extractive or llm (default PASSAGE_ANSWERER).")

    def as_kwargs(self) -> dict:
        return {"k": self.k, "mode": self.mode, "source": self.source, "answerer": self.answerer}


class AskRequest(AskOptions):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "How old was Yeonmi Park when she escaped?"}]})

    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question.")
    history: list[Text] = Field([], max_length=MAX_HISTORY, description="Earlier questions of the conversation, oldest first.")
    stream: bool = Field(False, description="Stream Server-Sent Events: text pieces as `data:` events, then the answer as an `answer` event.")
    conversation: str | None = Field(None, min_length=1, max_length=64, description="A saved conversation's id (GET /conversations): its earlier questions are the history, and this turn is added to it. Not with `history`.")

    @model_validator(mode="after")
    def _one_history(self) -> AskRequest:
        if self.conversation and self.history:
            raise ValueError("pass either history or conversation, not both")
        return self


class DocumentOut(BaseModel):
    """One indexed document, as `passage docs list --json` shows it."""

    source: str
    title: str
    kind: str
    sections: int
    chunks: int
    added_at: str
    path: str = Field(description="The file's name as it was added (the server's folders are not shown).")


class FileResult(BaseModel):
    """What became of one uploaded file."""

    file: str
    source: str
    status: Literal["new", "replaced", "unchanged"]
    chunks: int


class UploadResult(BaseModel):
    documents: list[FileResult]


class Removed(BaseModel):
    source: str
    chunks: int


class Health(BaseModel):
    status: Literal["ok"]


class ChatMessage(BaseModel):
    """An OpenAI chat message; content is text or a list of parts, of which the text parts are read."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict] | None = None

    @model_validator(mode="after")
    def _readable(self) -> ChatMessage:
        unicode_text(self.text())
        return self

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(AskOptions):
    """OpenAI's chat completion request; sampling fields (temperature, max_tokens...) are accepted and ignored,
    and `k`, `mode`, `source`, `answerer` may be added (the OpenAI client's `extra_body`)."""

    model_config = ConfigDict(extra="allow")

    model: Literal["passage"] = Field(description="The model id GET /v1/models lists.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=2 * MAX_HISTORY + 10)
    stream: bool = False
