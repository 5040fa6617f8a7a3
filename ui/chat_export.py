"""The chat's "Save" menu and the sidebar's exports: a saved conversation as a Markdown or a JSON file
(formatting: app/export.py). The file is made when its button is clicked, from the store, so it
holds every saved turn, with times, confidence and the settings used."""
from __future__ import annotations

import streamlit as st

from app.conversations import ConversationStore
from app.export import to_json, to_markdown

FILE_STEM = "passage-conversation"


def save_menu(store: ConversationStore, conversation_id: str | None) -> None:
    """A popover with the two downloads; disabled until the open chat has a saved turn."""
    with st.popover("Save", icon=":material/download:", disabled=not conversation_id, width="stretch"):
        if conversation_id:
            download_buttons(store, conversation_id, key="open")


def download_buttons(store: ConversationStore, conversation_id: str, key: str) -> None:
    """Markdown and JSON downloads of one conversation, each written when clicked."""
    st.download_button("Markdown", lambda: to_markdown(store.get(conversation_id)), f"{FILE_STEM}.md", "text/markdown",
                       on_click="ignore", icon=":material/description:", width="stretch", key=f"md-{key}")
    st.download_button("JSON", lambda: to_json(store.get(conversation_id)), f"{FILE_STEM}.json", "application/json",
                       on_click="ignore", icon=":material/data_object:", width="stretch", key=f"json-{key}")
