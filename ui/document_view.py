"""One document opened on the documents page: its sections as a tree, the chosen section's text
and the chunks it was cut into, a search within the document, and "ask about this document".

The reading itself is `ingest.reading.read_document`; this module only lays it out. Document
text is escaped before it reaches `st.html` (components.mark_words).
"""
from __future__ import annotations

import html

import streamlit as st

from ingest.reading import DocumentText, SectionText, read_document
from passage.errors import PassageError
from ui import components, session

INDENT = "\u2003"  # an em space per level of the tree


def show(library, source: str) -> None:
    """The opened document in a bordered box; a document that is gone says so in one line."""
    try:
        doc = read_document(library, source)
    except PassageError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    record = doc.record
    with st.container(border=True, key="document-view"):
        head, ask, close = st.columns([6, 2, 1], vertical_alignment="center")
        head.subheader(components.escape_md(record.title), anchor=False)
        if ask.button("Ask about this document", icon=":material/chat:", type="primary", width="stretch",
                      help="Limit the chat to this document; the filter shows above the chat and is removed with one click."):
            session.ask_about(record.source)
            st.switch_page("views/chat.py")
        close.button("Close", icon=":material/close:", width="stretch", on_click=st.session_state.update,
                     kwargs={"open_source": None})
        st.caption(components.escape_md(f"{record.source} · {record.kind} · {len(doc.sections)} sections · "
                                        f"{len(record.chunk_ids)} chunks · {record.path}"))
        if not doc.from_file:
            st.caption(":material/info: The file has changed or is gone since it was indexed: each section is "
                       "pieced together from its stored chunks.")
        words = st.text_input("Search in this document", key=f"doc-search-{source}", placeholder="Words to find",
                              icon=":material/search:")
        found = doc.matching(words)
        if not found:
            st.info(f"No section contains “{components.escape_md(words)}”.", icon=":material/search_off:")
            return
        if words.strip():
            st.caption(f"{sum(n for _, n in found)} matches in {len(found)} of {len(doc.sections)} sections.")
        tree, body = st.columns([2, 3])
        with tree, st.container(height=560, border=False):
            chosen = tree_picker(doc, found, words, source)
        with body:
            section(chosen, words)


def tree_picker(doc: DocumentText, found: list[tuple[SectionText, int]], words: str, source: str) -> SectionText:
    """The sections as an indented list to pick from (only those that match a search); returns the picked one."""
    index = {id(s): i for i, s in enumerate(doc.sections)}
    counts = {index[id(s)]: n for s, n in found}
    picked = st.radio("Sections", list(counts), key=f"doc-section-{source}-{words.strip().casefold()}",
                      format_func=lambda i: label(doc.sections[i], counts[i]))
    return doc.sections[picked if picked is not None else next(iter(counts))]


def label(s: SectionText, matches: int) -> str:
    """`label(<"A > B > C">, 2) == "\u2003\u2003C (2)"`: the last heading, indented by depth."""
    name = s.path[-1] or "(untitled)"
    return INDENT * (len(s.path) - 1) + components.escape_md(name) + (f" ({matches})" if matches else "")


def section(s: SectionText, words: str) -> None:
    st.html(f'<div class="section-crumbs">{" › ".join(html.escape(p) for p in s.path)}</div>'
            f'<div class="section-text">{components.mark_words(s.text, words) or "<em>(no text)</em>"}</div>')
    st.caption(f"Characters {s.start:,}–{s.end:,} of the document · cut into {len(s.chunks)} "
               f"chunk{'' if len(s.chunks) == 1 else 's'}")
    with st.expander(f"The {len(s.chunks)} chunks it was cut into", icon=":material/splitscreen:"):
        for i, chunk in enumerate(s.chunks, 1):
            st.html(f'<div class="chunk-head">Chunk {i} · characters {chunk.start:,}–{chunk.end:,} · '
                    f'{chunk.tokens} word pieces</div><div class="passage">{components.mark_words(chunk.text, words)}</div>')
