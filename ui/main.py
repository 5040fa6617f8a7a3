"""The web chat: `passage ui`, or `streamlit run ui/main.py` (ui/.streamlit/config.toml keeps it on loopback).

Reads the settings once per run, builds (once per process) the assistant and the library over
the index they name, adds the bundled corpus when that index is empty, draws the sidebar's
answer settings and runs the chosen page. Domain errors (a bad setting, an unreachable store)
show as one line, not a traceback.
"""
from __future__ import annotations

import streamlit as st

from app.runtime import configure
from passage.errors import PassageError
from ui import components, session

configure()
# Title and icon first: a page's material icon would otherwise become the favicon, fetched from
# outside the app.
st.set_page_config(page_title="passage", page_icon="📚")
pages = [
    st.Page("views/chat.py", title="Chat", icon=":material/forum:", default=True),
    st.Page("views/documents.py", title="Documents", icon=":material/folder_open:"),
    st.Page("views/evaluation.py", title="Evaluation", icon=":material/analytics:"),
]
page = st.navigation(pages)
# The one place the layout is set, every run: a page that set its own after main.py's "centered"
# could be drawn narrow again by a later rerun that skipped its call.
st.set_page_config(layout="wide" if page.title in ("Documents", "Evaluation") else "centered")
components.inject_css()
try:
    settings = session.load()
    session.ensure_library(session.library())
except PassageError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
session.sidebar_options(settings)
page.run()
