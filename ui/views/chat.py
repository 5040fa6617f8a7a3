"""The chat page: questions in, cited answers out, earlier questions passed on as history.

Each turn is saved to the conversation store (app/conversations.py) as soon as its answer
arrives; the open conversation's id sits in the page's address (`?chat=<id>`), so a reload
reopens it, and the sidebar (ui/chat_history.py) lists, opens, renames, deletes and exports
the earlier ones. `st.session_state.messages` holds the open conversation as
`{"role": "user", "text": ...}` and `{"role": "assistant", "answer": Answer}` (or
`"error": str`) items. Streamlit runs this file as the page script; importing it runs nothing.
"""
from __future__ import annotations

import streamlit as st

from app.conversations import make_turn, now, settings_used
from passage.errors import PassageError
from passage.models import Answer
from ui import chat_export, chat_history, components, session

STARTERS = (
    "How old was Yeonmi Park when she escaped?",
    "Why is it so hard to leave North Korea?",
    "Does everyone have the right to leave any country?",
    "Who can be considered a refugee?",
)
AVATARS = {"user": ":material/person:", "assistant": ":material/menu_book:"}


def render() -> None:
    assistant, library, store = session.assistant(), session.library(), session.conversations()
    chat_history.follow_address(store)
    chat_history.show_error()
    messages: list[dict] = st.session_state.setdefault("messages", [])
    chat_history.sidebar(store)  # before the answer, so the list does not fade while it is written
    left, save, right = st.columns([4, 1, 1], vertical_alignment="bottom")
    left.title("Ask the library")
    session.show_source_filter(library)
    for i, message in enumerate(messages):
        show(message, i, library)
    question = st.chat_input("Ask about leaving North Korea…", max_chars=2000) or st.session_state.pop("starter", None)
    if not messages and not question:
        starters()
    if question:
        ask(assistant, library, store, question, messages, session.options())
    right.button("New chat", icon=":material/add_comment:", on_click=chat_history.new_chat, disabled=not messages,
                 width="stretch")
    with save:  # drawn last, like "New chat", so it holds the answer just given
        chat_export.save_menu(store, chat_history.current())
    if st.session_state.pop("chat_started", False):
        st.rerun()  # list the chat just begun


def starters() -> None:
    st.html('<p class="starter-hint">Answers quote the documents and cite the sections they come from. Try:</p>')
    for column, text in zip(st.columns(2), (STARTERS[::2], STARTERS[1::2])):
        for starter in text:
            column.button(starter, width="stretch", on_click=st.session_state.update, kwargs={"starter": starter})


def show(message: dict, index: int, library) -> None:
    with st.chat_message(message["role"], avatar=AVATARS[message["role"]]):
        if message["role"] == "user":
            st.text(message["text"])
        elif "error" in message:
            st.error(message["error"], icon=":material/error:")
        else:
            with st.container():  # the same element path as a fresh answer, so open sources stay open
                components.render_answer(message["answer"], f"m{index}", library)


def ask(assistant, library, store, question: str, messages: list[dict], options: session.Options) -> None:
    history = [m["text"] for m in messages if m["role"] == "user"]
    asked_at = now()
    messages.append({"role": "user", "text": question})
    show(messages[-1], len(messages) - 1, library)
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        shown = st.empty()
        try:
            answer = _stream(assistant, question, history, options, shown)
        except PassageError as exc:
            messages.append({"role": "assistant", "error": str(exc)})
            shown.error(str(exc), icon=":material/error:")
            _save(store, make_turn(question, asked_at, error=str(exc), settings=_used(options)))
            return
        messages.append({"role": "assistant", "answer": answer})
        with shown.container():
            components.render_answer(answer, f"m{len(messages) - 1}", library)
    _save(store, make_turn(question, asked_at, answer, settings=_used(options)))


def _used(options: session.Options) -> dict:
    return settings_used(session.settings(), **options.as_kwargs())


def _save(store, turn) -> None:
    """Append the turn to the open conversation, or start one with it; a store that fails says so once."""
    try:
        if chat_history.save_turn(store, turn):
            st.session_state["chat_started"] = True
    except PassageError as exc:
        st.warning(f"This turn was not saved: {exc}", icon=":material/warning:")


def _stream(assistant, question: str, history: list[str], options: session.Options, shown) -> Answer:
    """Show the answerer's text in `shown` as it arrives; return the final Answer."""
    pieces = assistant.stream(question, history, source=session.source_filter(), **options.as_kwargs())
    with st.spinner("Searching the documents…"):
        piece = next(pieces, None)
    text = ""
    while piece is not None:
        if isinstance(piece, Answer):
            return piece
        text += piece
        shown.html(f'<div class="answer">{components.answer_html(text)}</div>')
        piece = next(pieces, None)
    raise PassageError("the answerer finished without an answer")


if __name__ == "__main__":
    render()
