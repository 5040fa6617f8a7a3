"""The conversation store on real SQLite files: exact values in, exact values out."""
import json
import sqlite3
from datetime import datetime, timezone

import pytest

from app.conversations import (BadTitle, Conversation, ConversationStore, Turn, UnknownConversation, clean_title,
                               settings_used, title_from)
from passage.models import Answer, Chunk, Citation, Passage
from passage.settings import Settings

ESCAPE = Chunk("c1", "leaving-north-korea", "Leaving North Korea", "Leaving North Korea > Escape",
               "Yeonmi Park escaped at 13.", 10, 36, None, 12, "")
T0 = datetime(2025, 3, 1, 9, 30, 0, 250000, tzinfo=timezone.utc)
T1 = datetime(2025, 3, 1, 9, 30, 1, tzinfo=timezone.utc)
T2 = datetime(2025, 3, 1, 9, 31, 0, tzinfo=timezone.utc)


def answered(question: str = "How old was Yeonmi Park when she escaped?", confidence: float = 0.42) -> Turn:
    answer = Answer(question, "Yeonmi Park escaped at 13. [1]", False,
                    (Citation(1, Passage(ESCAPE, 0.8125), ("Yeonmi Park escaped at 13.",)),), (Passage(ESCAPE, 0.8125),),
                    timings_ms={"total": 12.5}, answerer="reader", confidence=confidence, answerability=0.9)
    return Turn(question, T0, T1, answer, version="0.1.0", settings={"k": 5, "mode": "hybrid"})


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return ConversationStore(tmp_path / "data" / "conversations.sqlite")


def test_a_conversation_keeps_its_turns_exactly(store):
    created = store.create(turns=[answered()])
    assert created.title == "How old was Yeonmi Park when she escaped?"
    assert created.turn_count == 1
    again = ConversationStore(store.path).get(created.id)  # a fresh object reads the file
    (turn,) = again.turns
    assert (turn.question, turn.text, turn.confidence, turn.abstained) == (
        "How old was Yeonmi Park when she escaped?", "Yeonmi Park escaped at 13. [1]", 0.42, False)
    assert (turn.asked_at, turn.answered_at, turn.version, turn.settings) == (T0, T1, "0.1.0", {"k": 5, "mode": "hybrid"})
    assert turn.citations[0].n == 1
    assert turn.citations[0].quotes == ("Yeonmi Park escaped at 13.",)
    assert turn.citations[0].passage.chunk.section == "Leaving North Korea > Escape"
    assert (turn.citations[0].passage.chunk.start, turn.citations[0].passage.chunk.end) == (10, 36)
    assert turn.citations[0].passage.score == 0.8125
    assert turn.answer.timings_ms == {"total": 12.5}
    assert turn.answer.low_confidence is True


def test_append_keeps_order_and_an_error_turn(store):
    first = store.create(turns=[answered("Tell me about Yeonmi Park.")])
    store.append(first.id, Turn("Who wrote it?", T1, T2, error="the LLM did not answer"))
    store.append(first.id, answered("How old was she?"))
    got = store.get(first.id)
    assert got.questions == ["Tell me about Yeonmi Park.", "Who wrote it?", "How old was she?"]
    assert (got.turns[1].answer, got.turns[1].error, got.turns[1].text) == (None, "the LLM did not answer", "")
    assert got.updated_at == T1  # the last turn's answer time
    assert got.turn_count == 3


def test_an_untitled_conversation_takes_its_first_question(store):
    empty = store.create()
    assert (empty.title, empty.turn_count, empty.turns) == ("", 0, ())
    store.append(empty.id, answered("What does Article 13 say?"))
    store.append(empty.id, answered("And article 14?"))
    assert store.get(empty.id).title == "What does Article 13 say?"
    named = store.create("  Escape\n routes ")
    store.append(named.id, answered())
    assert store.get(named.id).title == "Escape routes"


def test_list_newest_first_rename_and_delete(store):
    a = store.create("first")
    b = store.create("second")
    store.append(a.id, answered())  # answered at T1, before b was made
    assert [(c.id, c.title, c.turn_count) for c in store.list()] == [(b.id, "second", 0), (a.id, "first", 1)]
    renamed = store.rename(a.id, "Yeonmi Park")
    assert renamed.title == "Yeonmi Park"
    assert renamed.turn_count == 1
    store.delete(b.id)
    assert [(c.id, c.title, c.turn_count) for c in store.list()] == [(a.id, "Yeonmi Park", 1)]
    with pytest.raises(UnknownConversation):
        store.get(b.id)
    with sqlite3.connect(store.path) as db:  # the turns went with their conversation
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 1
        store.delete(a.id)
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0


def test_list_orders_by_last_change(store):
    a = store.create("a")
    b = store.create("b")
    assert [c.title for c in store.list()] == ["b", "a"]
    later = Turn("q", T0, datetime(2999, 1, 1, tzinfo=timezone.utc), error="x")
    store.append(a.id, later)
    assert [c.title for c in store.list()] == ["a", "b"]


@pytest.mark.parametrize("call", ["get", "append", "rename", "delete"])
@pytest.mark.parametrize("bad_id", ["0" * 32, "nope", "", "../../etc/passwd", "x" * 5000])
def test_unknown_ids_raise_not_found(store, call, bad_id):
    store.create("kept")
    args = {"get": (), "append": (answered(),), "rename": ("t",), "delete": ()}[call]
    with pytest.raises(UnknownConversation) as caught:
        getattr(store, call)(bad_id, *args)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 200
    assert [c.title for c in store.list()] == ["kept"]


@pytest.mark.parametrize("title, message", [
    ("   ", "the title is empty; give the conversation a name"),
    ("x" * 201, "the title is too long (201 characters; the limit is 200)"),
    ("a\x00b", "the title holds control characters or is not text; use plain words"),
    ("\ud800", "the title holds control characters or is not text; use plain words"),
])
def test_bad_titles_raise_and_change_nothing(store, title, message):
    c = store.create("kept")
    with pytest.raises(BadTitle) as caught:
        store.rename(c.id, title)
    assert str(caught.value) == message
    assert store.get(c.id).title == "kept"


def test_titles_and_titles_from_questions():
    assert clean_title(" a\n\tb ") == "a b"
    assert clean_title("x" * 200) == "x" * 200
    assert title_from("Who is she?") == "Who is she?"
    long = "Why is it so hard for people to leave North Korea and what happens to those who are caught"
    assert title_from(long) == "Why is it so hard for people to leave North Korea and what…"


def test_settings_used_leave_secrets_out_and_take_the_calls_options(tmp_path):
    settings = Settings(data_dir=tmp_path, api_key="s3cret-key", llm_api_key="sk-other",
                        llm_base_url="http://user:pw@127.0.0.1:9/v1", k=5)
    used = settings_used(settings, k=3, mode="dense", answerer=None, source="udhr")
    assert "api_key" not in used and "llm_api_key" not in used and "chroma_token" not in used
    assert (used["k"], used["mode"], used["answerer"], used["source"]) == (3, "dense", "reader", "udhr")
    assert "pw" not in json.dumps(used) and "s3cret" not in json.dumps(used) and "sk-other" not in json.dumps(used)
    assert used["llm_base_url"].startswith("http://") and used["llm_base_url"].endswith("@127.0.0.1:9/v1")


def test_the_file_is_sqlite_in_wal_mode_and_a_conversation_is_a_value(store):
    c = store.create("t")
    assert isinstance(c, Conversation)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
