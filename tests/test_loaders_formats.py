"""HTML, PDF and DOCX loaders on fixture files built in tmp_path, good and bad."""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import docx as python_docx
import pytest
from pypdf import PdfWriter
from reportlab.pdfgen import canvas

from ingest.loaders import docx, html, load_document, pdf
from ingest.sections import split_sections
from passage.errors import LoadError
from passage.models import Heading, Page

MAX_BYTES = 1_000_000

PAGE = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Escape Routes</title>
<meta name="description" content="How people cross.">
<meta name="author" content="A. Writer">
<style>p { color: red }</style><script>alert(1)</script></head>
<body><nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<h1>Page Title</h1>
<p>Intro   text
 with <em>emphasis</em>.</p>
<h2>Sub A</h2><p>First part.</p><ul><li>one</li><li>two</li></ul>
<h3>Deeper</h3><div>Loose text<p>Inner paragraph.</p></div>
<h2>Sub B</h2><p>Last part.</p>
<footer>Copyright 2024</footer></body></html>
"""


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _load(module, tmp_path: Path, name: str, data: bytes):
    return module.load(_write(tmp_path, name, data), data)


def _paths(doc) -> list[tuple[str, ...]]:
    return [s.path for s in split_sections(doc)]


def _random_bytes(n: int = 2000) -> bytes:
    return random.Random(7).randbytes(n)


# --- HTML ---------------------------------------------------------------------------------


def test_html_text_leaves_out_script_style_nav_and_footer(tmp_path):
    doc = _load(html, tmp_path, "escape-routes.html", PAGE)
    assert doc.text == (
        "Page Title\n\nIntro text with emphasis.\n\nSub A\n\nFirst part.\n\none\n\ntwo\n\n"
        "Deeper\n\nLoose text\n\nInner paragraph.\n\nSub B\n\nLast part."
    )
    for absent in ("alert", "color", "Home", "About us", "Copyright"):
        assert absent not in doc.text


def test_html_headings_have_exact_offsets(tmp_path):
    doc = _load(html, tmp_path, "escape-routes.html", PAGE)
    assert doc.headings == (
        Heading(1, "Page Title", 0, 10),
        Heading(2, "Sub A", 39, 44),
        Heading(3, "Deeper", 69, 75),
        Heading(2, "Sub B", 107, 112),
    )
    assert all(doc.text[h.start : h.end] == h.title for h in doc.headings)


def test_html_sections_follow_headings(tmp_path):
    doc = _load(html, tmp_path, "escape-routes.html", PAGE)
    assert _paths(doc) == [
        ("Page Title",),
        ("Page Title", "Sub A"),
        ("Page Title", "Sub A", "Deeper"),
        ("Page Title", "Sub B"),
    ]
    assert [doc.text[s.start : s.end] for s in split_sections(doc)][1] == "First part.\n\none\n\ntwo"


def test_html_document_fields_and_metadata(tmp_path):
    doc = _load(html, tmp_path, "escape-routes.html", PAGE)
    assert (doc.kind, doc.source, doc.title) == ("html", "escape-routes", "Escape Routes")
    assert doc.metadata == {"title": "Escape Routes", "description": "How people cross.", "author": "A. Writer"}


def test_html_title_falls_back_to_first_h1_then_file_name(tmp_path):
    assert _load(html, tmp_path, "a.html", b"<p>x</p><h1>Main  Heading</h1>").title == "Main Heading"
    assert _load(html, tmp_path, "crossing-the-river.html", b"<p>Just text.</p>").title == "Crossing the River"


def test_html_decodes_the_declared_charset(tmp_path):
    data = '<meta charset="windows-1252"><p>Caf\u00e9 \u201cquoted\u201d</p>'.encode("cp1252")
    assert _load(html, tmp_path, "cafe.html", data).text == "Caf\u00e9 \u201cquoted\u201d"


def test_html_keeps_pre_lines_and_turns_br_into_space(tmp_path):
    data = b"<p>one<br>two</p><pre>a = 1\n\n    b = 2</pre>"
    assert _load(html, tmp_path, "code.html", data).text == "one two\n\na = 1\n    b = 2"


@pytest.mark.parametrize(
    "data, reason",
    [
        (bytes(range(256)) * 4, "binary content"),
        (b"<p>caf\xe9</p>", "not UTF-8 text (byte 0xe9 at offset 6)"),
        (b"<html><head><title>Only a title</title><script>x()</script></head><body><nav>Menu</nav></body></html>",
         "no text could be extracted"),
    ],
)
def test_html_bad_input_raises_load_error_naming_the_file(tmp_path, data, reason):
    with pytest.raises(LoadError) as info:
        _load(html, tmp_path, "broken-page.html", data)
    assert "broken-page.html" in str(info.value)
    assert reason in info.value.reason


# --- PDF ----------------------------------------------------------------------------------

RIVER = [(20, "Crossing the River"), (11, "The river is narrow in winter and the ice holds."),
         (11, "Guards patrol the bank at night."), (15, "Brokers"), (11, "Brokers charge a fee for each crossing.")]
THIRD = [(20, "Reaching a Third Country"), (11, "Most travel south through China to a border.")]
PDF_TEXT = (
    "Crossing the River\nThe river is narrow in winter and the ice holds.\nGuards patrol the bank at night.\n"
    "Brokers\nBrokers charge a fee for each crossing.\n\nReaching a Third Country\n"
    "Most travel south through China to a border."
)


def _pdf(pages: list[list[tuple[int, str]]], outline: list[list[tuple[str, int]]] | None = None,
         title: str = "") -> bytes:
    """A PDF with one line per (font size, text); `outline` gives each page's (entry, level)."""
    buf = io.BytesIO()
    pdf_canvas = canvas.Canvas(buf)
    if title:
        pdf_canvas.setTitle(title)
    for number, lines in enumerate(pages):
        y = 800
        for size, text in lines:
            pdf_canvas.setFont("Helvetica-Bold" if size > 11 else "Helvetica", size)
            pdf_canvas.drawString(72, y, text)
            y -= size * 1.6
        for i, (entry, level) in enumerate((outline or [[]] * len(pages))[number]):
            key = f"p{number}-{i}"
            pdf_canvas.bookmarkPage(key)
            pdf_canvas.addOutlineEntry(entry, key, level=level)
        pdf_canvas.showPage()
    pdf_canvas.save()
    return buf.getvalue()


def test_pdf_pages_and_headings_from_font_size(tmp_path):
    doc = _load(pdf, tmp_path, "escape-routes.pdf", _pdf([RIVER, THIRD]))
    assert doc.text == PDF_TEXT
    assert doc.pages == (Page(1, 0), Page(2, 150))
    assert doc.headings == (
        Heading(1, "Crossing the River", 0, 18),
        Heading(2, "Brokers", 101, 108),
        Heading(1, "Reaching a Third Country", 150, 174),
    )
    assert [(s.path, s.page) for s in split_sections(doc)] == [
        (("Crossing the River",), 1),
        (("Crossing the River", "Brokers"), 1),
        (("Reaching a Third Country",), 2),
    ]
    assert (doc.kind, doc.source, doc.title) == ("pdf", "escape-routes", "Crossing the River")


def test_pdf_headings_from_outline_skip_titles_not_on_the_page(tmp_path):
    flat = [[(11, text) for _, text in page] for page in (RIVER, THIRD)]  # one size: no font-size headings
    outline = [[("Crossing the River", 0), ("Brokers", 1)], [("Reaching a Third Country", 0), ("Not In The Text", 1)]]
    doc = _load(pdf, tmp_path, "outlined.pdf", _pdf(flat, outline, title="Escape Routes"))
    assert doc.headings == (
        Heading(1, "Crossing the River", 0, 18),
        Heading(2, "Brokers", 101, 108),
        Heading(1, "Reaching a Third Country", 150, 174),
    )
    assert [(s.path, s.page) for s in split_sections(doc)][-1] == (("Reaching a Third Country",), 2)
    assert doc.title == "Escape Routes"
    assert doc.metadata == {"title": "Escape Routes"}


def test_pdf_without_size_differences_or_outline_has_no_headings(tmp_path):
    flat = [[(11, text) for _, text in RIVER]]
    doc = _load(pdf, tmp_path, "plain-notes.pdf", _pdf(flat))
    assert (doc.headings, doc.title) == ((), "Plain Notes")


def test_pdf_title_ignores_a_first_heading_past_page_one(tmp_path):
    doc = _load(pdf, tmp_path, "field-notes.pdf", _pdf([[(11, "A cover page with only body text.")], THIRD]))
    assert doc.headings == (Heading(1, "Reaching a Third Country", 35, 59),)
    assert doc.title == "Field Notes"
    assert [(s.path, s.page) for s in split_sections(doc)] == [
        (("Field Notes",), 1),
        (("Reaching a Third Country",), 2),
    ]


def _encrypted(user_password: str) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf([RIVER])))
    writer.encrypt(user_password, "owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def test_pdf_encrypted_with_a_password_is_refused(tmp_path):
    with pytest.raises(LoadError) as info:
        _load(pdf, tmp_path, "locked.pdf", _encrypted("secret"))
    assert str(info.value) == f"{tmp_path / 'locked.pdf'}: encrypted PDF (it needs a password)"


def test_pdf_encrypted_with_an_empty_password_opens(tmp_path):
    doc = _load(pdf, tmp_path, "open.pdf", _encrypted(""))
    assert doc.headings[0] == Heading(1, "Crossing the River", 0, 18)


def _scanned() -> bytes:
    buf = io.BytesIO()
    pdf_canvas = canvas.Canvas(buf)
    pdf_canvas.rect(72, 72, 200, 300, fill=1)  # an image-like page: marks but no text
    pdf_canvas.showPage()
    pdf_canvas.save()
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, reason",
    [
        (_random_bytes(), "not a valid PDF (no %PDF- header)"),
        (_pdf([RIVER])[:600], "not a valid PDF ("),
        (_scanned(), "no extractable text (scanned PDF?)"),
    ],
    ids=["random", "truncated", "scanned"],
)
def test_pdf_bad_input_raises_load_error_naming_the_file(tmp_path, data, reason):
    with pytest.raises(LoadError) as info:
        _load(pdf, tmp_path, "broken-scan.pdf", data)
    assert "broken-scan.pdf" in str(info.value)
    assert info.value.reason.startswith(reason)


# --- DOCX ---------------------------------------------------------------------------------


def _docx(title: str | None = "Escape Routes", core_title: str = "") -> bytes:
    document = python_docx.Document()
    document.core_properties.title = core_title
    document.core_properties.author = "A. Writer"
    if title:
        document.add_paragraph(title, style="Title")
    document.add_paragraph("An overview.")
    document.add_heading("Crossing the River", level=1)
    document.add_paragraph("The river is narrow in winter.")
    document.add_paragraph("   ")
    document.add_heading("Brokers", level=2)
    document.add_paragraph("Brokers charge a fee.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Route", "Cost"
    table.cell(1, 0).merge(table.cell(1, 1)).text = "Varies by season"
    document.add_heading("Arrival", level=1)
    document.add_paragraph("Most travel south.")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_paragraphs_tables_and_headings(tmp_path):
    doc = _load(docx, tmp_path, "escape-routes.docx", _docx())
    assert doc.text == (
        "Escape Routes\n\nAn overview.\n\nCrossing the River\n\nThe river is narrow in winter.\n\nBrokers\n\n"
        "Brokers charge a fee.\n\nRoute\n\nCost\n\nVaries by season\n\nArrival\n\nMost travel south."
    )
    assert doc.headings == (
        Heading(1, "Escape Routes", 0, 13),
        Heading(2, "Crossing the River", 29, 47),
        Heading(3, "Brokers", 81, 88),
        Heading(2, "Arrival", 144, 151),
    )
    assert (doc.kind, doc.source, doc.title) == ("docx", "escape-routes", "Escape Routes")
    assert doc.metadata == {"title": "Escape Routes", "author": "A. Writer"}


def test_docx_sections_follow_title_and_heading_styles(tmp_path):
    doc = _load(docx, tmp_path, "escape-routes.docx", _docx())
    assert _paths(doc) == [
        ("Escape Routes",),
        ("Escape Routes", "Crossing the River"),
        ("Escape Routes", "Crossing the River", "Brokers"),
        ("Escape Routes", "Arrival"),
    ]


def test_docx_without_title_keeps_heading_levels_and_names_itself(tmp_path):
    doc = _load(docx, tmp_path, "escape-routes.docx", _docx(title=None))
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Crossing the River"), (2, "Brokers"), (1, "Arrival")]
    assert doc.title == "Escape Routes"  # from the file name
    assert _paths(doc)[0] == ("Escape Routes",)


def test_docx_core_title_wins(tmp_path):
    assert _load(docx, tmp_path, "a.docx", _docx(core_title="Official Title")).title == "Official Title"


def _zip_without_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return buf.getvalue()


def _empty_docx() -> bytes:
    document = python_docx.Document()
    document.add_paragraph("  ")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, reason",
    [
        (_random_bytes(), "not a valid .docx file (File is not a zip file)"),
        (_docx()[:3000], "not a valid .docx file ("),
        (_zip_without_docx(), "not a valid .docx file ("),
        (_empty_docx(), "no text could be extracted"),
    ],
    ids=["random", "truncated", "plain-zip", "empty"],
)
def test_docx_bad_input_raises_load_error_naming_the_file(tmp_path, data, reason):
    with pytest.raises(LoadError) as info:
        _load(docx, tmp_path, "broken-report.docx", data)
    assert "broken-report.docx" in str(info.value)
    assert info.value.reason.startswith(reason)


# --- load_document ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, kind, first_heading",
    [
        ("guide.html", PAGE, "html", "Page Title"),
        ("guide.htm", PAGE, "html", "Page Title"),
        ("guide.pdf", _pdf([RIVER, THIRD]), "pdf", "Crossing the River"),
        ("guide.docx", _docx(), "docx", "Escape Routes"),
    ],
)
def test_load_document_picks_the_loader_by_extension(tmp_path, name, data, kind, first_heading):
    path = _write(tmp_path, name, data)
    doc = load_document(path, MAX_BYTES)
    assert (doc.kind, doc.path, doc.source, doc.headings[0].title) == (kind, str(path), "guide", first_heading)


@pytest.mark.parametrize("name", ["junk.html", "junk.pdf", "junk.docx"])
def test_load_document_refuses_random_bytes(tmp_path, name):
    with pytest.raises(LoadError) as info:
        load_document(_write(tmp_path, name, _random_bytes()), MAX_BYTES)
    assert name in str(info.value)


def test_load_document_applies_the_size_limit_before_parsing(tmp_path):
    with pytest.raises(LoadError, match="too large"):
        load_document(_write(tmp_path, "big.pdf", _pdf([RIVER, THIRD])), 100)
