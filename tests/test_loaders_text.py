from pathlib import Path

import pytest

from ingest.loaders import load_document
from passage.errors import LoadError


def _load(path: Path, max_bytes: int = 1 << 20):
    return load_document(path, max_bytes)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n\t\n", "empty file (only whitespace)"),
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary content (NUL bytes), not text"),
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 3)"),
        ("open.md", b"---\ntitle: x\nno end here\n", "front matter opened with '---' is never closed"),
        ("bad.md", b"---\ntitle: x\n- just a list\n---\nbody\n", "malformed front matter at line 3: expected 'key: value'"),
        ("only-front.md", b"---\ntitle: x\n---\n\n", "no text could be extracted"),
        ("data.csv", b"a,b\n1,2\n", "unsupported file type '.csv'; supported: .txt, .md, .markdown, .html, .htm, .pdf, .docx"),
    ],
)
def test_bad_files_name_the_file_and_the_reason(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError) as caught:
        _load(path)
    assert caught.value.reason == reason
    assert str(caught.value) == f"{path}: {reason}"


def test_file_over_the_size_limit_is_refused(tmp_path: Path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    with pytest.raises(LoadError) as caught:
        _load(path, max_bytes=100)
    assert caught.value.reason == "too large: the file is 4.9 KB; the limit is 100 bytes (PASSAGE_MAX_FILE_MB)"


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(LoadError, match="no such file"):
        _load(tmp_path / "nope.txt")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(LoadError, match="not a regular file"):
        _load(tmp_path / "dir.txt")


def test_lenient_front_matter_with_stray_colons(tmp_path: Path):
    path = tmp_path / "law.md"
    path.write_text("---\ntitle: Act\ncompleteness: Code version: not the Public Law\n---\n# Act\n\nText.\n")
    doc = _load(path)
    assert doc.metadata == {"title": "Act", "completeness": "Code version: not the Public Law"}


def test_utf8_bom_and_title_from_file_name(tmp_path: Path):
    path = tmp_path / "notes-on-the-border.txt"
    path.write_bytes("\ufeffSome text about the border.".encode("utf-8"))
    doc = _load(path)
    assert doc.text == "Some text about the border."
    assert doc.title == "Notes on the Border"
    assert doc.source == "notes-on-the-border"
