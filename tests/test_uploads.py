"""The upload checks of ui/uploads.py, which need no Streamlit: safe names, refused files, storage."""
from __future__ import annotations

import pytest

from passage.models import DocumentRecord
from ui.uploads import Upload, check, safe_name, save_uploads

@pytest.mark.parametrize("name, expected", [
    ("report.md", "report.md"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\evil.TXT", "evil.txt"),
    ("/abs/path/My Report (v2).MD", "My-Report-v2.md"),
    ("Überblick.pdf", "Uberblick.pdf"),
    (".hidden.md", "hidden.md"),
    ("...", ""),
    ("../", ""),
    ("a/b/..", ""),
    ("name.with.dots.txt", "name.with.dots.txt"),
])
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def _record(source: str, path: str) -> DocumentRecord:
    return DocumentRecord(source, source.title(), path, "md", "h", ("c",), 1, "2024-01-01T00:00:00+00:00", "sig")


def test_save_uploads_refuses_traversal_collisions_bad_types_and_sizes(tmp_path):
    folder = tmp_path / "uploads"
    records = [_record("iccpr", "/corpus/iccpr.md"), _record("notes", str(folder / "notes.txt"))]
    saved = save_uploads([
        Upload("../../outside.md", b"# Out\n\nText."),
        Upload("ICCPR.txt", b"same name, other case"),
        Upload("notes.txt", b"a new version of notes"),
        Upload("big.txt", b"x" * 101),
        Upload("empty.md", b""),
        Upload("script.sh", b"echo hi"),
        Upload("fake.docx", b"plain text"),
        Upload("../outside.md", b"# Twice\n\nText."),
    ], folder, records, max_bytes=100)
    assert [(s.name, s.path.name if s.path else None, s.error) for s in saved] == [
        ("../../outside.md", "outside.md", ""),
        ("ICCPR.txt", None, "a document named 'ICCPR' already exists (from iccpr.md); rename the file or remove that document first"),
        ("notes.txt", "notes.txt", ""),
        ("big.txt", None, "the file is 101 bytes; the limit is 100 bytes"),
        ("empty.md", None, "the file is empty"),
        ("script.sh", None, "unsupported file type '.sh'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx"),
        ("fake.docx", None, "the content is not a DOCX file"),
        ("../outside.md", None, "another file of this upload has the same name"),
    ]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["notes.txt", "outside.md"]
    assert (folder / "notes.txt").read_bytes() == b"a new version of notes"
    assert all(p.parent == folder for p in tmp_path.rglob("*") if p.is_file())


def test_check_accepts_real_pdf_and_docx_headers():
    assert check(Upload("a.pdf", b"%PDF-1.7 ..."), 1000) == ""
    assert check(Upload("a.docx", b"PK\x03\x04..."), 1000) == ""
    assert check(Upload("noext", b"text"), 1000).startswith("unsupported file type '(none)'")
