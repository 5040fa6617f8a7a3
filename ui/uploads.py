"""Check and store uploaded files before they are ingested. No Streamlit here, so it tests directly.

A browser sends any file name it likes. The stored name is the name's last path part cut to
`[A-Za-z0-9._-]`, so it cannot leave the uploads folder; a document's name is its file stem,
so a name whose stem (ignoring case) belongs to another document is refused rather than
allowed to overwrite it. The same file name again replaces that document, as re-ingesting does.
A symbolic link already in the uploads folder is never written through.
"""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ingest.loaders import SUPPORTED
from passage.models import DocumentRecord

MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAGIC = {".pdf": (b"%PDF",), ".docx": (b"PK\x03\x04",)}


@dataclass(frozen=True)
class Upload:
    """One uploaded file as the browser sent it."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Saved:
    """What became of one upload: stored at `path`, or refused with `error`."""

    name: str
    path: Path | None = None
    error: str = ""


def safe_name(name: str) -> str:
    """`safe_name("../../etc/My Report (v2).MD") == "My-Report-v2.md"`; "" when nothing usable is left."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:MAX_STEM].strip(".-_")
    suffix = _UNSAFE.sub("", suffix).lower()
    if not stem:
        return ""
    return f"{stem}.{suffix}" if suffix else stem


def check(upload: Upload, max_bytes: int) -> str:
    """Why `upload` cannot be ingested, or "" when its type and size are acceptable."""
    suffix = Path(safe_name(upload.name)).suffix.lower()
    if suffix not in SUPPORTED:
        return f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED)}"
    if not upload.data:
        return "the file is empty"
    if len(upload.data) > max_bytes:
        return f"the file is {_size(len(upload.data))}; the limit is {_size(max_bytes)}"
    if suffix in _MAGIC and not upload.data.startswith(_MAGIC[suffix]):
        return f"the content is not a {suffix[1:].upper()} file"
    return ""


def save_uploads(uploads: Sequence[Upload], folder: Path, records: Sequence[DocumentRecord], max_bytes: int) -> list[Saved]:
    """Store the acceptable uploads in `folder` under safe names; refuse the rest with a reason."""
    taken = {r.source.lower(): Path(r.path).name for r in records}
    batch: set[str] = set()
    results: list[Saved] = []
    folder.mkdir(parents=True, exist_ok=True)
    for upload in uploads:
        name = safe_name(upload.name)
        error = check(upload, max_bytes) if name else "the file name has no usable characters"
        stem = Path(name).stem.lower()
        if not error and name in batch:
            error = "another file of this upload has the same name"
        elif not error and stem in taken and taken[stem] != name:
            error = f"a document named {Path(name).stem!r} already exists (from {taken[stem]}); rename the file or remove that document first"
        elif not error and (folder / name).is_symlink():
            error = "a symbolic link of that name is in the uploads folder; it is left alone and nothing is written"
        if error:
            results.append(Saved(upload.name, error=error))
            continue
        taken[stem] = name
        batch.add(name)
        results.append(Saved(upload.name, _write(folder, name, upload.data)))
    return results


def is_upload(record: DocumentRecord, folder: Path) -> bool:
    """Whether the record's file is one the web page stored (and so may delete)."""
    return Path(record.path).resolve().parent == folder.resolve()


def _write(folder: Path, name: str, data: bytes) -> Path:
    """Write through a temporary file renamed over the target: a rename replaces a link at the
    target rather than writing through it, so no upload lands outside `folder`."""
    if name in ("", ".", "..") or Path(name).name != name:  # safe_name makes this impossible
        raise ValueError(f"refusing to write outside {folder}: {name!r}")
    target = folder.resolve() / name  # the folder's real place; the name itself is never resolved
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)
    return target


def _size(n: int) -> str:
    """`_size(1536) == "1.5 KB"`."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
