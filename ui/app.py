"""The web chat: `passage ui`, or `streamlit run ui/app.py` (ui/.streamlit/config.toml keeps it on loopback).

Builds (once per process) the assistant over the index the settings name, adds the bundled
corpus when that index is empty, draws the sidebar's answer settings and runs the chosen
page. Domain errors (a bad setting, an unreachable store) show as one line, not a traceback.
"""
from __future__ import annotations

import logging

import streamlit as st

from passage.errors import PassageError
from ui import components, session

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="passage", page_icon="📚", layout="centered")
components.inject_css()

pages = [
    st.Page("views/chat.py", title="Chat", icon=":material/forum:", default=True),
    st.Page("views/documents.py", title="Documents", icon=":material/folder_open:"),
    st.Page("views/evaluation.py", title="Evaluation", icon=":material/analytics:"),
]
page = st.navigation(pages)
try:
    settings = session.settings()
    session.ensure_library(session.assistant())
except PassageError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
session.sidebar_options(settings)
page.run()
