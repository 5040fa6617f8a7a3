"""Hostile and malformed files: each loads, or fails alone with one line; none breaks a batch."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ingest.loaders import load_document
from ingest.pipeline import expand
from passage.errors import LoadError
from passage.settings import Settings
from tests.conftest import ROOT
from ui.uploads import Upload, save_uploads

MAX_BYTES = 1 << 20
DEEP_HTML = b"<html><body>" + b"<div>" * 1000 + b"<p>Deep text.</p>" + b"</div>" * 1000 + b"</body></html>"
# 372 bytes: nine levels of nine aliases stand for 9**9 (387 million) strings once written out.
ALIAS_BOMB = (
    '---\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))
    + "---\n# Laughs\n\nJust a body\n"
)
LONG_WORD = "x" * 300_000


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _reason(path: Path, max_bytes: int = MAX_BYTES) -> str:
    with pytest.raises(LoadError) as caught:
        load_document(path, max_bytes)
    return caught.value.reason


# --- deep nesting ---------------------------------------------------------------------------


def test_html_nested_a_thousand_deep_loads(tmp_path):
    path = _write(tmp_path, "deep.html", DEEP_HTML)
    assert 11_000 < len(DEEP_HTML) < 12_000
    doc = load_document(path, MAX_BYTES)
    assert doc.text == "Deep text."


def test_html_nested_beyond_the_parser_still_loads_or_fails_alone(tmp_path):
    path = _write(tmp_path, "deeper.html", b"<p>Top text.</p>" + b"<span>" * 100_000 + b"Inner." + b"</span>" * 100_000)
    doc = load_document(path, 4 * MAX_BYTES)
    assert doc.text.startswith("Top text.")


# --- charsets ------------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["punycode", "utf-7", "idna", "undefined", "unicode_escape", "utf-16", "utf-32",
                                     "cp037", "rot13", "base64", "no-such-charset"])
def test_html_with_an_unusable_declared_charset_is_read_as_utf8(tmp_path, charset):
    data = f'<html><head><meta charset="{charset}"></head><body><p>Plain text.</p></body></html>'.encode()
    doc = load_document(_write(tmp_path, "page.html", data), MAX_BYTES)
    assert doc.text == "Plain text."


def test_html_with_an_unusable_charset_and_bad_utf8_is_one_load_error(tmp_path):
    path = _write(tmp_path, "page.html", b'<meta charset="punycode"><p>caf\xe9</p>')
    assert _reason(path) == "not UTF-8 text (byte 0xe9 at offset 31)"


def test_a_docx_zip_bomb_is_refused_before_unpacking(tmp_path):
    import zipfile

    from tests.test_loader_properties import docx_parts

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in docx_parts().items():
            z.writestr(name, text)
        with z.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">')
            for _ in range(300):
                part.write(b" " * (1 << 20))
    assert path.stat().st_size < 1 << 20
    assert _reason(path) == "unpacks to 300 MB; at most 256 MB is read"


# --- YAML front matter -----------------------------------------------------------------------


def test_alias_bomb_front_matter_is_refused_quickly_within_bounded_memory(tmp_path):
    """Run in a child with a 1.5 GB address-space limit, so a regression fails instead of eating the machine."""
    path = _write(tmp_path, "laughs.md", ALIAS_BOMB)
    assert len(ALIAS_BOMB.encode()) == 372
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, 1536 * 1024 * 1024))
        from ingest.loaders import load_document
        from passage.errors import LoadError
        try:
            load_document(__import__("pathlib").Path({str(path)!r}), 1 << 20)
        except LoadError as exc:
            print(exc.reason)
    """)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - began
    assert (done.returncode, done.stdout, done.stderr) == (0, "front matter uses more than 8 YAML aliases\n", "")
    assert seconds < 10


@pytest.mark.parametrize(("front", "reason"), [
    ("a: " + "[" * 5000 + "]" * 5000, "front matter nests deeper than 32 levels"),
    ("a: '" + "x" * 70_000 + "'", "front matter is 70,006 characters; at most 65,536 are read"),
])
def test_costly_front_matter_is_one_load_error(tmp_path, front, reason):
    path = _write(tmp_path, "costly.md", f"---\n{front}\n---\nBody text.\n")
    assert _reason(path) == reason


def test_front_matter_yaml_that_python_cannot_build_falls_back_to_key_value_lines(tmp_path):
    path = _write(tmp_path, "odd.md", f"---\ntitle: Odd\nnumber: {'9' * 5000}\nwhen: 2024-13-45\n---\nBody text.\n")
    doc = load_document(path, MAX_BYTES)
    assert doc.metadata == {"title": "Odd", "number": "9" * 5000, "when": "2024-13-45"}


@pytest.mark.timeout(20)
def test_a_heading_line_padded_with_spaces_loads_at_once(tmp_path):
    """The old heading pattern backtracked cubically: 5,000 spaces took 330 s."""
    path = _write(tmp_path, "spaces.md", "# a" + " " * 20_000 + "b\n\nBody text.\n")
    began = time.perf_counter()
    doc = load_document(path, MAX_BYTES)
    assert time.perf_counter() - began < 1
    assert [(h.title, h.end) for h in doc.headings] == [("a\u2026", 20_004)]


# --- symbolic links --------------------------------------------------------------------------


def test_folder_walk_skips_links_out_of_the_folder_and_says_why(tmp_path):
    from ingest.pipeline import Skipped

    outside = _write(tmp_path / "outside", "secret.txt", "The secret.")
    docs = tmp_path / "docs"
    _write(docs, "inside.txt", "Inside text.")
    _write(docs / "sub", "deeper.md", "# Deeper\n\nText.")
    _write(docs, "README.md", "# Read me")
    _write(docs, "data.csv", "a,b")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "secret.txt").symlink_to(outside)
    (docs / "alias.txt").symlink_to(docs / "inside.txt")
    (docs / "folder-link").symlink_to(tmp_path / "outside")
    (docs / "sub-link").symlink_to(docs / "sub")
    (docs / "broken.txt").symlink_to(docs / "missing.txt")
    (docs / "loop.txt").symlink_to(docs / "loop.txt")
    os.mkfifo(docs / "pipe.txt")
    files, skipped = expand([docs])
    root = docs.resolve()
    assert files == [docs / "alias.txt", docs / "inside.txt", docs / "sub" / "deeper.md"]
    assert skipped == (
        Skipped(str(docs / "README.md"), "a README, left out of folders"),
        Skipped(str(docs / "broken.txt"), "a broken symbolic link"),
        Skipped(str(docs / "data.csv"), "unsupported file type '.csv'"),
        Skipped(str(docs / "folder-link"), f"a symbolic link to {outside.parent.resolve()}, outside {root}; not followed"),
        Skipped(str(docs / "loop.txt"), "a symbolic link that leads nowhere (a loop of links)"),
        Skipped(str(docs / "passwd.txt"), f"a symbolic link to /etc/passwd, outside {root}; not followed"),
        Skipped(str(docs / "pipe.txt"), "not a regular file"),
        Skipped(str(docs / "secret.txt"), f"a symbolic link to {outside.resolve()}, outside {root}; not followed"),
        Skipped(str(docs / "sub-link"), "a symbolic link to a folder; not followed"),
    )


def test_a_named_link_is_the_users_choice_and_is_followed(tmp_path):
    target = _write(tmp_path / "elsewhere", "notes.txt", "Notes.")
    link = tmp_path / "docs" / "link.txt"
    link.parent.mkdir()
    link.symlink_to(target)
    assert expand([link]) == ([link], ())
    assert load_document(link, MAX_BYTES).text == "Notes."


def test_uploads_never_write_through_a_link(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    victim = _write(tmp_path / "elsewhere", "victim.md", "Original.")
    (folder / "notes.md").symlink_to(victim)
    saved = save_uploads([Upload("notes.md", b"# Overwrite\n\nText."), Upload("fresh.md", b"# Fresh\n\nText.")],
                         folder, [], max_bytes=1000)
    assert [(s.name, s.path, s.error) for s in saved] == [
        ("notes.md", None, "a symbolic link of that name is in the uploads folder; it is left alone and nothing is written"),
        ("fresh.md", folder.resolve() / "fresh.md", ""),
    ]
    assert victim.read_text() == "Original."
    assert (folder / "notes.md").is_symlink()


# --- encodings, sizes, names ---------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
@pytest.mark.parametrize("name", ["notes.txt", "notes.md", "notes.html"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_decoded(tmp_path, name, encoding):
    text = "Caf\u00e9 and \u5317\u97d3 text."
    bom = {"utf-16": "", "utf-32": ""}.get(encoding, "\ufeff")  # the plain codecs write their own mark
    data = (bom + (f"<p>{text}</p>" if name.endswith(".html") else text)).encode(encoding)
    doc = load_document(_write(tmp_path, name, data), MAX_BYTES)
    assert doc.text == text


def test_utf16_with_a_mark_but_broken_bytes_names_the_encoding(tmp_path):
    path = _write(tmp_path, "odd.txt", "\ufeffText".encode("utf-16-le") + b"\x00\xd8")  # a lone high surrogate
    assert _reason(path) == "not UTF-16 text (byte 0x00 at offset 10)"


def test_size_limit_message_states_the_limit_as_set(tmp_path):
    limit = Settings(max_file_mb=20).max_file_bytes
    path = tmp_path / "big.txt"
    with path.open("wb") as f:
        f.truncate(22_334_668)  # 21.3 MB, sparse
    assert _reason(path, limit) == "too large: the file is 21.3 MB; the limit is 20 MB (PASSAGE_MAX_FILE_MB)"
    assert _reason(path, Settings(max_file_mb=0.5).max_file_bytes) == (
        "too large: the file is 21.3 MB; the limit is 512 KB (PASSAGE_MAX_FILE_MB)")


@pytest.mark.parametrize("name", ["no-such-folder", "no-such-file.md", "no-such-file.csv"])
def test_a_missing_path_is_reported_as_missing(tmp_path, name):
    assert _reason(tmp_path / name) == "no such file or folder"


def test_printable_escapes_control_and_format_characters():
    from ingest.names import printable

    assert printable("report") == "report"
    assert printable("caf\u00e9 \u5317 \u00a0x") == "caf\u00e9 \u5317 \u00a0x"
    assert printable("a\x00b\x1b[2J\tc\nd\r\x7f") == "a\\x00b\\x1b[2J\\tc\\nd\\r\\x7f"
    assert printable("evil\u202egpj.txt\u2028") == "evil\\u202egpj.txt\\u2028"
    assert printable("bad\udcff") == "bad\\udcff"


def test_control_characters_in_a_file_name_do_not_reach_source_or_title(tmp_path):
    doc = load_document(_write(tmp_path, "evil\x1b[2J\x07name.txt", "Some text."), MAX_BYTES)
    assert (doc.source, doc.title) == ("evil\\x1b[2J\\x07name", "Evil\\x1b[2j\\x07name")
    doc = load_document(_write(tmp_path, "page\x1b.html", "<title>Bad\x1b[31m title</title><p>Text.</p>"), MAX_BYTES)
    assert (doc.source, doc.title) == ("page\\x1b", "Bad\\x1b[31m title")


def test_a_file_name_that_is_not_utf8_is_one_load_error(tmp_path):
    path = _write(tmp_path, os.fsdecode(b"bad\xff.txt"), "Some text.")
    assert _reason(path) == "the file name is not valid UTF-8; rename the file"


def test_over_long_headings_and_titles_are_cut(tmp_path):
    doc = load_document(_write(tmp_path, "long.md", f"# {LONG_WORD}\n\nBody text.\n"), MAX_BYTES)
    assert doc.title == "x" * 199 + "\u2026"
    assert [h.title for h in doc.headings] == ["x" * 199 + "\u2026"]
    assert doc.headings[0].end == 2 + len(LONG_WORD)


# --- a whole batch through the real pipeline ----------------------------------------------


@pytest.mark.slow
def test_a_batch_of_hostile_files_ingests_with_bounded_chunks(tmp_path, embedder):
    from app.wiring import build_ingestor

    docs = tmp_path / "docs"
    _write(docs, "deep.html", DEEP_HTML)
    _write(docs, "puny.html", b'<meta charset="punycode"><p>Declared punycode, written in UTF-8.</p>')
    _write(docs, "laughs.md", ALIAS_BOMB)
    _write(docs, "line-txt.txt", LONG_WORD)
    _write(docs, "line-md.md", f"# Long\n\n{LONG_WORD}\n")
    _write(docs, "line-html.html", f"<h1>Long</h1><p>{LONG_WORD}</p>")
    _write(docs, "wide.txt", "\ufeffWide text from a UTF-16 file.".encode("utf-16-le"))
    _write(docs, "good.txt", "The border river is cold in winter.")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    settings = Settings(data_dir=tmp_path / "data")
    ingestor = build_ingestor(settings, embedder)
    report = ingestor.ingest([docs])
    assert [(o.source, o.status, o.error) for o in report.outcomes] == [
        ("deep", "new", ""), ("good", "new", ""), ("laughs", "failed", "front matter uses more than 8 YAML aliases"),
        ("line-html", "new", ""), ("line-md", "new", ""), ("line-txt", "new", ""), ("puny", "new", ""), ("wide", "new", ""),
    ]
    assert [(s.path, s.reason.split(",")[0]) for s in report.skipped] == [
        (str(docs / "passwd.txt"), "a symbolic link to /etc/passwd")]
    chunks = ingestor.store.chunks()
    assert "root:" not in " ".join(c.text for c in chunks)
    cap = settings.chunk_tokens * 12
    for source in ("line-html", "line-md", "line-txt"):
        pieces = sorted((c for c in chunks if c.source == source), key=lambda c: c.start)
        assert len(pieces) == -(-len(LONG_WORD) // cap) == 196
        assert "".join(c.text for c in pieces) == LONG_WORD
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert max(n + 2 for n in counts) <= settings.chunk_tokens
    assert max(len(c.text) for c in chunks) == cap


@pytest.mark.slow
@pytest.mark.parametrize("name", ["long-line.txt", "long-line.md", "long-line.html"])
def test_a_300k_character_line_gives_chunks_within_the_token_and_character_limits(tmp_path, embedder, name):
    from ingest.chunking import Chunker
    from ingest.sections import split_sections

    body = {"long-line.txt": LONG_WORD, "long-line.md": f"# Long\n\n{LONG_WORD}\n",
            "long-line.html": f"<h1>Long</h1><p>{LONG_WORD}</p>"}[name]
    doc = load_document(_write(tmp_path, name, body), MAX_BYTES)
    chunker = Chunker(embedder, 128, 30)
    chunks = chunker.chunk(doc, split_sections(doc))
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    assert chunker.max_chars == 1536
    assert "".join(c.text for c in chunks) == LONG_WORD
    assert all(n + 2 <= 128 and n + 2 == c.tokens for n, c in zip(counts, chunks))
    assert all(len(c.text) <= 1536 and doc.text[c.start : c.end] == c.text for c in chunks)
