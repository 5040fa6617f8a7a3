"""The documents page: what is indexed, opening one to read (ui/document_view.py), adding files
(checked, stored under safe names), removing."""
from __future__ import annotations

import math
from pathlib import Path

import streamlit as st

from ingest.loaders import SUPPORTED
from passage.errors import PassageError
from ui import components, document_view, session
from ui.uploads import Upload, is_upload, save_uploads


def render() -> None:
    library, settings = session.library(), session.settings()
    st.title("Documents")
    for kind, text in st.session_state.pop("doc_notices", []):
        getattr(st, kind)(text)
    listing, reading = st.container(), st.container()
    upload_form(library, settings)
    records = library.records()  # after the upload, so new documents are listed
    if records:
        remove_form(library, records, settings.uploads_dir)
    with listing:
        document_table(records)
    with reading:
        opened = open_picker(records)
        if opened:
            document_view.show(library, opened)


def open_picker(records) -> str | None:
    """A chooser of the document to open; the chosen document's name, or None."""
    titles = {r.source: r.title for r in records}
    if st.session_state.get("open_source") not in titles:
        st.session_state["open_source"] = None  # removed since it was opened
    return st.selectbox("Open a document", list(titles), index=None, key="open_source",
                        placeholder="Choose a document to read its sections and chunks",
                        format_func=lambda s: f"{titles[s]} ({s})")


def document_table(records) -> None:
    st.caption(f"{len(records)} documents, {sum(len(r.chunk_ids) for r in records)} chunks in the index.")
    if records:
        st.dataframe(
            [{"Title": r.title, "Source": r.source, "Type": r.kind, "Sections": r.sections, "Chunks": len(r.chunk_ids),
              "Added": r.added_at[:16].replace("T", " ")} for r in records],
            hide_index=True, width="stretch",
            column_config={"Title": st.column_config.TextColumn(width=300, help="Hover a cell to read a long title"),
                           "Source": st.column_config.TextColumn(width=200, help="The document's name: its file name without extension"),
                           "Type": st.column_config.TextColumn(width=50),
                           "Sections": st.column_config.NumberColumn(width=70),
                           "Chunks": st.column_config.NumberColumn(width=60),
                           "Added": st.column_config.TextColumn("Added (UTC)", width=125)},
        )


def upload_form(library, settings) -> None:
    st.subheader("Add documents")
    with st.form("upload", clear_on_submit=True, border=True):
        # No `type=` filter: Streamlit would drop other files silently or fail the run; checking
        # them here gives one clear line per refused file.
        files = st.file_uploader(
            f"Text, Markdown, HTML, PDF or Word files ({', '.join(SUPPORTED)}), up to {settings.max_file_mb:g} MB each",
            accept_multiple_files=True, key="upload_files", max_upload_size=math.ceil(settings.max_file_mb),
        )
        submitted = st.form_submit_button("Add to the library", icon=":material/upload:", type="primary")
    if submitted and files:
        add_uploads(library, [Upload(f.name, f.getvalue()) for f in files], settings)
    elif submitted:
        st.warning("Choose one or more files first.")


def add_uploads(library, uploads: list[Upload], settings) -> None:
    """Store, embed with a progress bar, and report one line per file."""
    saved = save_uploads(uploads, settings.uploads_dir, library.records(), settings.max_file_bytes)
    for item in saved:
        if item.error:
            st.error(f"{components.escape_md(item.name)}: {components.escape_md(item.error)}", icon=":material/block:")
    paths = [item.path for item in saved if item.path]
    if not paths:
        return
    bar = st.progress(0.0, text="Reading the files…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=f"Indexed {done} of {total} files")

    try:
        report = library.add(paths, progress=progress)
    except PassageError as exc:
        bar.empty()
        st.error(str(exc), icon=":material/error:")
        return
    bar.empty()
    for outcome in report.outcomes:
        name = components.escape_md(Path(outcome.path).name)
        if outcome.status == "failed":
            Path(outcome.path).unlink(missing_ok=True)
            st.error(f"{name}: {components.escape_md(outcome.error)}", icon=":material/block:")
        elif outcome.status == "unchanged":
            st.info(f"{name}: already in the library, unchanged.", icon=":material/check:")
        else:
            verb = "replaced" if outcome.status == "replaced" else "added"
            chunks = f"{outcome.chunks} chunk" + ("" if outcome.chunks == 1 else "s")
            st.success(f"{name}: {verb} as **{components.escape_md(outcome.source)}** ({chunks}); "
                       "you can ask about it now.", icon=":material/check_circle:")


def remove_form(library, records, uploads_dir: Path) -> None:
    st.subheader("Remove a document")
    titles = {r.source: r.title for r in records}
    with st.form("remove", border=True):
        st.selectbox("Document", list(titles), index=None, placeholder="Choose a document", key="remove_source",
                     format_func=lambda s: f"{s} — {titles[s]}")
        st.form_submit_button("Remove", icon=":material/delete:", on_click=remove, args=(library, uploads_dir))


def remove(library, uploads_dir: Path) -> None:
    """Form callback: runs before the page redraws, so the listing is already without the document."""
    source = st.session_state.get("remove_source")
    if not source:
        st.session_state["doc_notices"] = [("warning", "Choose a document to remove first.")]
        return
    try:
        record = library.remove(source)
    except PassageError as exc:
        st.session_state["doc_notices"] = [("error", str(exc))]
        return
    if is_upload(record, uploads_dir):
        Path(record.path).unlink(missing_ok=True)
    st.session_state["remove_source"] = None
    st.session_state["doc_notices"] = [("success", f"Removed {components.escape_md(record.source)} ({len(record.chunk_ids)} chunks).")]


if __name__ == "__main__":
    render()
