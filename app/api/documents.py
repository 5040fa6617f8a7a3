"""Uploaded files into the library over HTTP: all the files of one request, or none of them.

Each file gets the web page's checks (`ui.uploads`: a safe name, a supported type, the size
limit, the PDF/DOCX signature, no clash with another document's name), is written to a
staging folder beside the uploads folder and loaded there. Only when every file loads are
they moved into the uploads folder and ingested, so a refused request leaves the index and
the stored files as they were. No FastAPI here: the route turns the errors into statuses.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from ingest.library import Library
from ingest.loaders import load_document
from ingest.pipeline import IngestReport
from passage.errors import InputError, LoadError
from passage.models import DocumentRecord
from ui.uploads import Upload, is_upload, save_uploads

from .errors import TooLarge


def add_uploads(library: Library, uploads: Sequence[Upload], folder: Path) -> IngestReport:
    """Check, load and then ingest `uploads`, stored in `folder`; InputError (TooLarge for size) names each refused file."""
    if not uploads:
        raise InputError("no files were sent; send one or more as multipart field `files`")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".staging-") as staging:
        saved = save_uploads(uploads, Path(staging), library.records(), library.max_bytes)
        refused = [f"{s.name}: {s.error}" for s in saved if s.error]
        if refused:
            too_large = any(len(u.data) > library.max_bytes for u in uploads)
            raise (TooLarge if too_large else InputError)("; ".join(refused))
        unloadable = [f"{s.name}: {reason}" for s in saved if (reason := _load_problem(s.path, library.max_bytes))]
        if unloadable:
            raise InputError("; ".join(unloadable))
        paths = [folder / s.path.name for s in saved]

        def move() -> None:  # under the write lock, so another process's finish_uploads never sees them unindexed
            for s, target in zip(saved, paths):
                os.replace(s.path, target)

        report = library.add(paths, prepare=move)
    for outcome in report.failed:
        Path(outcome.path).unlink(missing_ok=True)
    if report.failed:
        raise InputError("; ".join(f"{Path(o.path).name}: {o.error}" for o in report.failed))
    return report


def remove_document(library: Library, source: str, folder: Path) -> DocumentRecord:
    """Remove a document; its file goes too when it is one that was uploaded."""
    record = library.remove(source)
    if is_upload(record, folder):
        Path(record.path).unlink(missing_ok=True)
    return record


def _load_problem(path: Path, max_bytes: int) -> str:
    try:
        load_document(path, max_bytes)
    except LoadError as exc:
        return exc.reason
    return ""
