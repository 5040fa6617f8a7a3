"""Properties over generated input: every loader returns a Document or raises LoadError, and
chunking keeps every chunk within the token limit and the character cap, verbatim."""
from __future__ import annotations

import io
import zipfile
from encodings.aliases import aliases
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunking import Chunker
from ingest.loaders import load_document, text
from ingest.sections import split_sections
from passage.errors import LoadError
from passage.models import Document

MAX_BYTES = 1 << 20
PROPERTY = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Characters that have broken text tools: controls, bidi overrides, combining marks, emoji
# with joiners, CJK, surrogate-free astral planes, line and paragraph separators.
HOSTILE = st.sampled_from([
    "\x00", "\x07", "\x1b[2J", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\u202e", "\u200f",
    "\u0627\u0644\u0633\u0644\u0627\u0645", "e\u0301\u0302\u0303", "\u0301" * 30, "\U0001F469\u200D\U0001F4BB",
    "\U0001F1F0\U0001F1F5", "\u5317\u97d3", "\ufeff", "\ufffd", "\U00010348", "#", "# ", "---\n", ". ", "? ", "\n\n",
    "\t", " " * 50, "Mr. ", "A.", "x" * 5000, "\u00e9" * 300, "\u5317" * 2000, "ab" * 400, "9" * 400,
])
TEXT = st.lists(st.one_of(st.text(max_size=60), HOSTILE), max_size=40).map("".join)
HTML_PARTS = st.sampled_from([
    "<p>", "</p>", "<div>", "</div>", "<h1>", "</h1>", "<h3>", "<pre>", "</pre>", "<br>", "<!--", "-->", "<script>",
    "</script>", "<table><tr><td>", "<title>", "</title>", '<meta charset="', "punycode", "utf-16", "utf-7", '">',
    "&amp;", "&#0;", "&#xD800;", "&#x110000;", "<![CDATA[", "]]>", "<header>", "<article>", "<nav hidden>", "<",
    "<svg><foreignObject>", "<math>", "<template>", "<?xml ?>", "<!DOCTYPE x>",
])
CHARSETS = sorted(set(aliases) | set(aliases.values()) | {
    "punycode", "utf-7", "idna", "undefined", "unicode_escape", "raw_unicode_escape", "rot13", "base64", "utf-16",
    "utf-32", "x-user-defined", "utf8", "UTF-8", "", "\u00e9", "a" * 100,
})
HTML = st.builds(
    lambda charset, tag, depth, body: f'<meta charset="{charset}">' + f"<{tag}>" * depth + body + f"</{tag}>" * depth,
    st.sampled_from(CHARSETS), st.sampled_from(["div", "span", "b", "section", "td", "h2"]), st.integers(0, 3000),
    st.lists(st.one_of(HTML_PARTS, TEXT), max_size=40).map("".join),
)
FRONT_MATTER = st.builds(
    lambda front, body: f"---\n{front}\n---\n{body}",
    st.lists(st.one_of(st.sampled_from(["title: ", "a: &x ", "b: *x", "- ", "? ", "[", "]", "{", "}", ": ", "!!python/object ",
                                        "!!binary ", "2024-13-45", "1e999", "0x", "\n", "  ", "'", '"', "|", ">"]),
                       st.text(max_size=20)), max_size=30).map("".join),
    TEXT,
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("generated")


def _load(folder: Path, name: str, data: bytes) -> Document | None:
    """The Document, or None after checking the LoadError is one line naming the file."""
    path = folder / name
    path.write_bytes(data)
    try:
        doc = load_document(path, MAX_BYTES)
    except LoadError as exc:
        assert exc.path == str(path) and exc.reason and "\n" not in exc.reason
        return None
    assert doc.text[doc.body_start : doc.end].strip()
    assert all(0 <= h.start <= h.end <= len(doc.text) for h in doc.headings)
    return doc


def docx_parts() -> dict[str, str]:
    """The parts a .docx needs besides word/document.xml."""
    return {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    }


def _docx(xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in docx_parts().items():
            z.writestr(name, text)
        z.writestr("word/document.xml", xml)
    return out.getvalue()


@PROPERTY
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf", ".docx"]),
       head=st.sampled_from([b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\xff\xfe", b"\xef\xbb\xbf", b"---\n"]))
def test_any_bytes_give_a_document_or_a_load_error(folder, data, suffix, head):
    _load(folder, "random" + suffix, head + data)


@PROPERTY
@given(body=TEXT, suffix=st.sampled_from([".txt", ".md", ".html"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_any_text_gives_a_document_or_a_load_error(folder, body, suffix, encoding):
    doc = _load(folder, "text" + suffix, body.encode(encoding, "surrogatepass"))
    # A UTF-8 mark is read as one (other codecs write their own); UTF-16 of a leading NUL is the UTF-32 mark.
    if doc is not None and suffix != ".html" and not (encoding == "utf-16" and body.startswith("\x00")):
        assert doc.text == (body.removeprefix("\ufeff") if encoding == "utf-8" else body)


@PROPERTY
@given(page=HTML, ascii_only=st.booleans())
def test_any_html_gives_a_document_or_a_load_error(folder, page, ascii_only):
    _load(folder, "page.html", page.encode("ascii", "ignore") if ascii_only else page.encode("utf-8", "surrogatepass"))


@PROPERTY
@given(page=FRONT_MATTER)
def test_any_front_matter_gives_a_document_or_a_load_error(folder, page):
    doc = _load(folder, "front.md", page.encode("utf-8", "surrogatepass"))
    if doc is not None:
        assert all(isinstance(v, str) for v in doc.metadata.values())


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(st.one_of(HTML_PARTS, TEXT, st.sampled_from(["<w:p><w:r><w:t>", "</w:t></w:r></w:p>"])),
                     max_size=20).map("".join))
def test_any_docx_body_gives_a_document_or_a_load_error(folder, body):
    xml = ('<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{body}</w:body></w:document>").encode("utf-8", "surrogatepass")
    _load(folder, "generated.docx", _docx(xml))


@pytest.mark.slow
@PROPERTY
@given(body=TEXT.filter(str.strip))
def test_chunks_stay_within_the_token_limit_and_character_cap(embedder, body):
    doc = text.load(Path("generated.txt"), body)
    chunker = Chunker(embedder, 64, 12)
    chunks = chunker.chunk(doc, split_sections(doc))
    counts = embedder.count_tokens([c.embed_text for c in chunks])
    for chunk, n in zip(chunks, counts):
        assert chunk.text == doc.text[chunk.start : chunk.end] and chunk.text.strip() == chunk.text
        assert len(chunk.text) <= 64 * 12
        assert n + 2 == chunk.tokens <= 64
    covered = bytearray(len(body))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    sections = split_sections(doc)
    assert all(covered[i] or body[i].isspace() for s in sections for i in range(s.start, s.end))
