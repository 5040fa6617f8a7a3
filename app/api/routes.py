"""The API's own routes: ask, list/add/remove documents, health.

Route functions are plain `def`s, so FastAPI runs them (the embedding model, Chroma, file
writes) in its threadpool; changes to the library take the app's write lock.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Iterator

from fastapi import APIRouter, Depends, File, Request, UploadFile

from app.render import answer_json, record_json
from app.wiring import Services
from passage.models import Answer
from passage.settings import Settings
from ui.uploads import Upload

from . import conversations
from .documents import add_uploads, remove_document
from .errors import ERRORS
from .schemas import AskRequest, DocumentOut, FileResult, Health, Removed, UploadResult
from .security import require_write_key
from .streaming import event, sse_response, started

MAX_FILES = 10
ASK_DOC = """The same JSON object as `passage ask --json`: `question`, `answer` (with [n] markers), `abstained`,
`citations` (n, source, title, section, text, start, end, score, quotes), `retrieved`, `timings_ms`, `answerer`,
`sentences`, `groundedness`. With `"stream": true`, Server-Sent Events: the answer's text pieces as `data:`
events, then the whole object as an event named `answer` (or `{"error": ...}` as an event named `error`)."""


def services(request: Request) -> Services:
    return request.app.state.services


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", response_model=Health, responses={503: ERRORS[503]})
    def health(request: Request) -> dict:
        """Whether the server is up and its index answers (no API key needed)."""
        services(request).library.store.count()
        return {"status": "ok"}

    return router


def upload_limit(settings: Settings) -> int:
    """Most bytes of one upload request: MAX_FILES files at the size limit, and room for the multipart framing."""
    return MAX_FILES * settings.max_file_bytes + 1024 * 1024


def api_router(settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.post("/ask", tags=["ask"], description=ASK_DOC,
                 responses={200: {"content": {"text/event-stream": {}}}, **ERRORS})
    def ask(body: AskRequest, request: Request):
        """Answer a question from the indexed documents, citing sections."""
        assistant = services(request).assistant
        if body.conversation:  # its questions are the history; the answer is saved to it
            pieces = conversations.ask_in(request, assistant, body.question, body.conversation, **body.as_kwargs())
        else:
            pieces = assistant.stream(body.question, body.history, **body.as_kwargs())
        if not body.stream:
            *_, answer = pieces
            return answer_json(answer)
        return sse_response(_ask_events(started(pieces)), request.url.path)

    @router.get("/documents", response_model=list[DocumentOut], tags=["documents"], responses=ERRORS)
    def list_documents(request: Request) -> list[dict]:
        """Every indexed document, as `passage docs list --json` shows it, but for `path`: the file's name, not where the server keeps it."""
        return [{**record_json(r), "path": Path(r.path).name} for r in services(request).library.records()]

    writes = [Depends(require_write_key)]

    @router.post("/documents", response_model=UploadResult, status_code=201, tags=["documents"], responses=ERRORS,
                 form_limits={"max_files": MAX_FILES}, dependencies=writes)
    def upload_documents(request: Request, files: Annotated[list[UploadFile], File(description="Files to add (.txt, .md, .html, .pdf, .docx).")]) -> dict:
        """Add or replace documents; a request whose files are not all acceptable changes nothing."""
        uploads = [Upload(f.filename or "", f.file.read()) for f in files]  # bounded by upload_limit (limits.BodyLimit)
        library = services(request).library
        with request.app.state.write_lock:
            report = add_uploads(library, uploads, settings.uploads_dir)
        return {"documents": [FileResult(file=Path(o.path).name, source=o.source, status=o.status, chunks=o.chunks)
                              for o in report.outcomes]}

    @router.delete("/documents/{source}", response_model=Removed, tags=["documents"], responses=ERRORS, dependencies=writes)
    def delete_document(source: str, request: Request) -> dict:
        """Remove a document and its chunks (and its file, when it was uploaded)."""
        with request.app.state.write_lock:
            record = remove_document(services(request).library, source, settings.uploads_dir)
        return {"source": record.source, "chunks": len(record.chunk_ids)}

    return router


def _ask_events(pieces: Iterator[str | Answer]) -> Iterator[bytes]:
    for piece in pieces:
        if isinstance(piece, Answer):
            yield event(json.dumps(answer_json(piece), ensure_ascii=False), "answer")
        else:
            yield event(piece)
