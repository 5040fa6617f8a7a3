"""Conversations that last: every chat's turns, saved in SQLite as they happen.

One file (`settings.conversations_db`, in the data folder) holds two tables: conversations
(id, title, times) and their turns (question, the answer as `passage ask --json` prints it or
the error it got, when it was asked and answered, the product version and the settings it
was answered under). Each change is one transaction in WAL mode with full sync, so a process
killed at any point leaves the file as it was before or after that change: a crash loses at
most the turn in flight. A connection is opened per call, so threads (Streamlit's, FastAPI's)
and processes share the file safely; SQLite's busy timeout serialises writers.
There is one implementation, so no Protocol: tests use real files.
Usage: `store = ConversationStore(settings.conversations_db); c = store.create(turns=[turn]); store.get(c.id)`.
"""
from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Iterator, Mapping, Sequence

from pydantic import SecretStr

from passage.errors import InputError, NotFoundError, StoreError, one_line
from passage.models import Answer, Citation
from passage.redact import redact
from passage.settings import Settings

from .render import answer_from_json, answer_json

MAX_TITLE_CHARS = 200
TITLE_FROM_QUESTION_CHARS = 60
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ID = re.compile(r"[0-9a-f]{32}")
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE, n INTEGER NOT NULL,
    question TEXT NOT NULL, answer TEXT, error TEXT NOT NULL, asked_at TEXT NOT NULL, answered_at TEXT NOT NULL,
    version TEXT NOT NULL, settings TEXT NOT NULL, PRIMARY KEY (conversation, n));
"""


class UnknownConversation(NotFoundError):
    """No conversation has this id (or it was deleted)."""

    def __init__(self, conversation_id: str):
        super().__init__(f"no conversation {conversation_id[:80]!r}; GET /conversations or the chat's sidebar lists them")


class BadTitle(InputError):
    """A title that is empty, too long, or holds control characters."""


@dataclass(frozen=True)
class Turn:
    """One question and what came of it: an answer, or the one-line error it got."""

    question: str
    asked_at: datetime
    answered_at: datetime
    answer: Answer | None = None
    error: str = ""
    version: str = ""
    settings: Mapping[str, object] = field(default_factory=dict)  # what the answer was made under, no secrets

    @property
    def text(self) -> str:
        return self.answer.text if self.answer else ""

    @property
    def citations(self) -> tuple[Citation, ...]:
        return self.answer.citations if self.answer else ()

    @property
    def confidence(self) -> float | None:
        return self.answer.confidence if self.answer else None

    @property
    def abstained(self) -> bool:
        return bool(self.answer and self.answer.abstained)


@dataclass(frozen=True)
class Conversation:
    """A saved chat; `turns` is empty in a listing (`ConversationStore.list`), whose `turn_count` says how many."""

    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    turn_count: int = 0
    turns: tuple[Turn, ...] = ()

    @property
    def questions(self) -> list[str]:
        """The earlier questions, oldest first: the history a follow-up is asked with."""
        return [turn.question for turn in self.turns]


def now() -> datetime:
    return datetime.now(timezone.utc)


def clean_title(text: str) -> str:
    """The title on one line; BadTitle when it is empty, too long or not text: `clean_title(" a\\n b ") == "a b"`."""
    if not isinstance(text, str) or _CONTROL.search(text) or not _encodable(text):
        raise BadTitle("the title holds control characters or is not text; use plain words")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise BadTitle("the title is empty; give the conversation a name")
    if len(cleaned) > MAX_TITLE_CHARS:
        raise BadTitle(f"the title is too long ({len(cleaned)} characters; the limit is {MAX_TITLE_CHARS})")
    return cleaned


def title_from(question: str) -> str:
    """A title from a first question, cut at a word: `title_from("Who is she?") == "Who is she?"`."""
    words = " ".join(_CONTROL.sub(" ", question).split())
    if len(words) <= TITLE_FROM_QUESTION_CHARS:
        return words
    return words[:TITLE_FROM_QUESTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def settings_used(settings: Settings, **options: object) -> dict[str, object]:
    """The settings an answer is made under, with the call's options (k, mode, answerer, source) on top;
    secrets are left out and URL credentials masked."""
    used = {name: value for name, value in settings.model_dump(mode="json").items()
            if not isinstance(getattr(settings, name), SecretStr)}
    used.update({name: value for name, value in options.items() if value is not None})
    return {name: redact(value) if isinstance(value, str) else value for name, value in used.items()}


def product_version() -> str:
    return package_version("passage")


def make_turn(question: str, asked_at: datetime, answer: Answer | None = None, error: str = "",
              settings: Mapping[str, object] | None = None) -> Turn:
    """A turn answered now, stamped with this product's version."""
    return Turn(question, asked_at, now(), answer, error, product_version(), dict(settings or {}))


class ConversationStore:
    """The conversations in one SQLite file, created on first use."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._ready = False

    def create(self, title: str = "", turns: Sequence[Turn] = ()) -> Conversation:
        """A new conversation with these turns, in one transaction; an empty title takes the first question's."""
        title = clean_title(title) if title else ""
        if not title and turns:
            title = title_from(turns[0].question)
        conversation_id, stamp = uuid.uuid4().hex, _iso(now())
        with self._write() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)", (conversation_id, title, stamp, stamp))
            for n, turn in enumerate(turns):
                _insert(db, conversation_id, n, turn)
        return self.get(conversation_id)

    def list(self) -> list[Conversation]:
        """Every conversation, most recently changed first, without their turns."""
        with self._read() as db:
            rows = db.execute("SELECT c.id, c.title, c.created_at, c.updated_at, COUNT(t.n) FROM conversations c "
                              "LEFT JOIN turns t ON t.conversation = c.id GROUP BY c.id "
                              "ORDER BY c.updated_at DESC, c.created_at DESC, c.id").fetchall()
        return [_conversation(row) for row in rows]

    def get(self, conversation_id: str) -> Conversation:
        """The conversation with all its turns, in order; UnknownConversation when there is none."""
        with self._read() as db:
            row = self._header(db, conversation_id)
            turns = db.execute("SELECT question, asked_at, answered_at, answer, error, version, settings FROM turns "
                               "WHERE conversation = ? ORDER BY n", (conversation_id,)).fetchall()
        return _conversation(row, tuple(_turn(t) for t in turns))

    def append(self, conversation_id: str, turn: Turn) -> Conversation:
        """Add a turn at the end, in one transaction; an untitled conversation takes its first question as title."""
        with self._write() as db:
            self._header(db, conversation_id)
            n = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (conversation_id,)).fetchone()[0]
            _insert(db, conversation_id, n, turn)
            db.execute("UPDATE conversations SET updated_at = ?, title = CASE title WHEN '' THEN ? ELSE title END "
                       "WHERE id = ?", (_iso(turn.answered_at), title_from(turn.question), conversation_id))
        return self.get(conversation_id)

    def rename(self, conversation_id: str, title: str) -> Conversation:
        title = clean_title(title)
        with self._write() as db:
            self._header(db, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        return self.get(conversation_id)

    def delete(self, conversation_id: str) -> None:
        with self._write() as db:
            self._header(db, conversation_id)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def _header(self, db: sqlite3.Connection, conversation_id: str) -> tuple:
        row = None
        if isinstance(conversation_id, str) and _ID.fullmatch(conversation_id):
            row = db.execute("SELECT id, title, created_at, updated_at, (SELECT COUNT(*) FROM turns WHERE conversation = ?) "
                             "FROM conversations WHERE id = ?", (conversation_id, conversation_id)).fetchone()
        if row is None:
            raise UnknownConversation(str(conversation_id))
        return row

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the saved chats at {self.path}: {one_line(exc)}") from None
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
            if not self._ready:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(SCHEMA)
                self._ready = True
            yield db
        except sqlite3.Error as exc:
            raise StoreError(f"the saved chats at {self.path} failed: {one_line(exc)}") from None
        finally:
            db.close()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            yield db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: committed whole when the block ends, rolled back if it raises."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


def _insert(db: sqlite3.Connection, conversation_id: str, n: int, turn: Turn) -> None:
    answer = json.dumps(answer_json(turn.answer)) if turn.answer else None  # ASCII: no lone surrogate can fail
    question = turn.question if _encodable(turn.question) else turn.question.encode("utf-8", "replace").decode()
    db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (conversation_id, n, question, answer, turn.error, _iso(turn.asked_at), _iso(turn.answered_at),
                turn.version, json.dumps(dict(turn.settings), sort_keys=True)))


def _conversation(row: tuple, turns: tuple[Turn, ...] = ()) -> Conversation:
    conversation_id, title, created, updated, count = row
    return Conversation(conversation_id, title, _time(created), _time(updated), count, turns)


def _turn(row: tuple) -> Turn:
    question, asked, answered, answer, error, version, settings = row
    return Turn(question, _time(asked), _time(answered), answer_from_json(json.loads(answer)) if answer else None,
                error, version, json.loads(settings))


def _iso(moment: datetime) -> str:
    """UTC, to the microsecond, so stored times sort as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
