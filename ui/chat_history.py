"""Earlier chats in the sidebar, and which one is open.

The open conversation's id lives in `st.session_state.conversation` and in the page's address
(`?chat=<id>`): a reload, or a link, opens it again; a page switch that drops the address gets
it back from the session. A new chat has no id until its first answer is saved. The sidebar
lists every saved chat (title from its first question, last change in the browser's time
zone), newest first; each opens with a click, and its menu renames, exports or deletes it.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import streamlit as st

from app.conversations import Conversation, ConversationStore, Turn
from passage.errors import PassageError
from ui import chat_export
from ui.components import escape_md

PARAM = "chat"
_OPEN = "conversation"
UNTITLED = "Untitled chat"


def current() -> str | None:
    return st.session_state.get(_OPEN)


def follow_address(store: ConversationStore) -> None:
    """Open the conversation the address names, or put the open one back into the address."""
    wanted = st.query_params.get(PARAM)
    if wanted and wanted != current():
        try:
            open_chat(store, wanted)
        except PassageError as exc:
            st.warning(f"{exc}. Starting a new chat.", icon=":material/history:")
            new_chat()
    elif current() and not wanted:
        st.query_params[PARAM] = current()


def open_chat(store: ConversationStore, conversation_id: str) -> None:
    """Make `conversation_id` the open chat: its turns become the page's messages."""
    conversation = store.get(conversation_id)
    st.session_state.messages = messages(conversation)
    st.session_state[_OPEN] = conversation.id
    st.query_params[PARAM] = conversation.id


def new_chat() -> None:
    st.session_state.messages = []
    st.session_state[_OPEN] = None
    st.query_params.pop(PARAM, None)


def save_turn(store: ConversationStore, turn: Turn) -> bool:
    """Append to the open conversation, or start a conversation with this turn; True when one was started."""
    if current():
        store.append(current(), turn)
        return False
    conversation = store.create(turns=[turn])
    st.session_state[_OPEN] = conversation.id
    st.query_params[PARAM] = conversation.id
    return True


def messages(conversation: Conversation) -> list[dict]:
    """The page's messages for a saved conversation: each question, then its answer or error."""
    out: list[dict] = []
    for turn in conversation.turns:
        out.append({"role": "user", "text": turn.question})
        out.append({"role": "assistant", "answer": turn.answer} if turn.answer else {"role": "assistant", "error": turn.error})
    return out


def sidebar(store: ConversationStore) -> None:
    """The list of saved chats, each with its menu."""
    try:
        chats = store.list()
    except PassageError as exc:
        st.sidebar.warning(str(exc), icon=":material/error:")
        return
    with st.sidebar:
        st.subheader("Chats")
        if not chats:
            st.caption("Your chats are saved here as you ask.")
        with st.container(key="chat-list"):
            for chat in chats:
                _row(store, chat)


def _row(store: ConversationStore, chat: Conversation) -> None:
    title = chat.title or UNTITLED
    is_open = chat.id == current()
    left, right = st.columns([5, 1], vertical_alignment="top", gap="small")
    left.button(escape_md(title), key=f"open-{chat.id}", type="secondary" if is_open else "tertiary", width="stretch",
                help=f"{title} · {chat.turn_count} question{'s' * (chat.turn_count != 1)}",
                on_click=_open, args=(store, chat.id))
    left.caption(when(chat.updated_at))
    with right.popover("", icon=":material/more_vert:", type="tertiary", help="Rename, export or delete"):
        with st.form(f"rename-{chat.id}", border=False):
            name = st.text_input("Title", value=title, max_chars=200, key=f"title-{chat.id}")
            if st.form_submit_button("Rename", icon=":material/edit:"):
                _act(store.rename, chat.id, name)
                st.rerun()  # the list shows the new title
        chat_export.download_buttons(store, chat.id, key=chat.id)
        st.button("Delete", key=f"delete-{chat.id}", icon=":material/delete:", type="secondary", width="stretch",
                  on_click=_delete, args=(store, chat.id))


def when(moment: datetime) -> str:
    """The time in the browser's zone: `14:05` today, `3 Mar 14:05` this year, else `3 Mar 2024`."""
    local = moment.astimezone(_zone())
    today = datetime.now(_zone()).date()
    if local.date() == today:
        return local.strftime("%H:%M")
    return f"{local.day} {local:%b %H:%M}" if local.year == today.year else f"{local.day} {local:%b %Y}"


def _zone():
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except Exception:  # an unknown or missing zone name from the browser: show UTC
        return timezone.utc


def _open(store: ConversationStore, conversation_id: str) -> None:
    _act(open_chat, store, conversation_id)


def _delete(store: ConversationStore, conversation_id: str) -> None:
    _act(store.delete, conversation_id)
    if conversation_id == current():
        new_chat()


def _act(action, *args) -> None:
    """Run an open, rename or delete; its one-line error shows at the top of the page (`show_error`)."""
    try:
        action(*args)
    except PassageError as exc:
        st.session_state["chat_error"] = str(exc)


def show_error() -> None:
    """The last sidebar action's error, once."""
    message = st.session_state.pop("chat_error", None)
    if message:
        st.error(message, icon=":material/error:")
