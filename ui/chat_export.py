"""The chat's "Save" menu: the conversation as a Markdown or a JSON file (formatting: app/export.py)."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from app.export import Turn, to_json, to_markdown

FILE_STEM = "passage-conversation"


def turns(messages: Sequence[dict]) -> list[Turn]:
    """The chat's messages (user, then assistant: answer or error) as question/answer turns."""
    out: list[Turn] = []
    for message in messages:
        if message["role"] == "user":
            out.append(Turn(message["text"]))
        elif out and out[-1].answer is None and not out[-1].error:
            out[-1] = Turn(out[-1].question, message.get("answer"), message.get("error", ""))
    return [t for t in out if t.answer or t.error]


def save_menu(messages: Sequence[dict]) -> None:
    """A popover with the two downloads; disabled until there is an answer to save."""
    done = turns(messages)
    with st.popover("Save", icon=":material/download:", disabled=not done, width="stretch"):
        st.download_button("Markdown", to_markdown(done), f"{FILE_STEM}.md", "text/markdown", on_click="ignore",
                           icon=":material/description:", width="stretch")
        st.download_button("JSON", to_json(done), f"{FILE_STEM}.json", "application/json", on_click="ignore",
                           icon=":material/data_object:", width="stretch")
