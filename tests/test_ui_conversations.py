"""Saved chats in the web page, through Streamlit's AppTest: real assistant, real index, real SQLite."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from app.conversations import ConversationStore
from passage.settings import Settings
from tests.pages import APP, TIMEOUT, answers, app, ask

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _extractive(monkeypatch):
    """The quickest answerer: these tests are about what is saved and reopened, not the answers."""
    monkeypatch.setenv("PASSAGE_ANSWERER", "extractive")


def reopen(data_dir, monkeypatch, conversation_id: str) -> AppTest:
    """A new browser session on the address `?chat=<id>` (what a reload does)."""
    monkeypatch.setenv("PASSAGE_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["chat"] = conversation_id
    return at.run()


def test_each_turn_is_saved_and_a_reload_reopens_the_chat_with_its_context(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    ask(at, "Tell me about Yeonmi Park.")
    store = ConversationStore(Settings(data_dir=fresh_data_dir).conversations_db)
    (saved,) = store.list()
    assert (saved.title, saved.turn_count) == ("Tell me about Yeonmi Park.", 1)
    assert at.query_params["chat"] == saved.id
    assert store.get(saved.id).turns[0].text == answers(at)[0].text

    again = reopen(fresh_data_dir, monkeypatch, saved.id)
    assert not again.exception
    assert [m.get("text") for m in again.session_state["messages"]] == ["Tell me about Yeonmi Park.", None]
    assert answers(again)[0].text == answers(at)[0].text
    ask(again, "How old was she when she got out?")
    follow_up = answers(again)[1]
    assert "Yeonmi Park" in follow_up.query and "13" in follow_up.text
    turns = store.get(saved.id).turns
    assert [t.question for t in turns] == ["Tell me about Yeonmi Park.", "How old was she when she got out?"]
    assert turns[1].settings["k"] == 5 and turns[1].settings["answerer"] == "extractive"


def test_new_chat_lists_the_earlier_one_which_renames_exports_and_deletes(fresh_data_dir, monkeypatch):
    at = app(fresh_data_dir, monkeypatch)
    ask(at, "Who can be considered a refugee?")
    next(b for b in at.button if b.label == "New chat").click().run()
    assert at.session_state["messages"] == [] and "chat" not in at.query_params
    store = ConversationStore(Settings(data_dir=fresh_data_dir).conversations_db)
    (saved,) = store.list()
    opener = at.button(key=f"open-{saved.id}")
    assert opener.label == "Who can be considered a refugee?"
    opener.click().run()
    assert at.session_state["messages"][0]["text"] == "Who can be considered a refugee?"
    assert at.query_params["chat"] == saved.id

    at.text_input(key=f"title-{saved.id}").set_value("Refugees")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert not at.exception
    assert store.get(saved.id).title == "Refugees"
    assert at.button(key=f"open-{saved.id}").label == "Refugees"

    at.text_input(key=f"title-{saved.id}").set_value("   ")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert [e.value for e in at.error] == ["the title is empty; give the conversation a name"]
    assert store.get(saved.id).title == "Refugees"

    at.button(key=f"delete-{saved.id}").click().run()
    assert store.list() == [] and at.session_state["messages"] == []
    assert "chat" not in at.query_params


def test_an_unknown_chat_in_the_address_starts_a_new_one(fresh_data_dir, monkeypatch):
    at = reopen(fresh_data_dir, monkeypatch, "0" * 32)
    assert not at.exception
    assert [w.value for w in at.warning] == [
        "no conversation '00000000000000000000000000000000'; GET /conversations or the chat's sidebar lists them. "
        "Starting a new chat."]
    assert at.session_state["messages"] == [] and "chat" not in at.query_params


def test_the_save_menu_exports_the_saved_turns(fresh_data_dir, monkeypatch):
    from app.export import to_json

    at = app(fresh_data_dir, monkeypatch)
    ask(at, "How old was Yeonmi Park when she escaped?")
    store = ConversationStore(Settings(data_dir=fresh_data_dir).conversations_db)
    data = json.loads(to_json(store.get(store.list()[0].id)))
    (turn,) = data["turns"]
    assert turn["answer"] == answers(at)[0].text
    assert turn["low_confidence"] == answers(at)[0].low_confidence
    assert "api_key" not in turn["settings"] and turn["settings"]["mode"] == "hybrid"
