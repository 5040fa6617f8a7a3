from pathlib import Path

from ingest.loaders import load_document
from ingest.loaders.text import is_heading_line
from ingest.sections import split_sections
from tests.conftest import CORPUS

ARTICLE_SECTIONS = [
    ("Leaving North Korea",),
    ("Leaving North Korea", "Introduction"),
    ("Leaving North Korea", "Conditions to Leave North Korea"),
    ("Leaving North Korea", "Personal Accounts of Successful Escape"),
    ("Leaving North Korea", "A Comparison of North Korea’s Emigration Policies with Other Countries"),
    ("Leaving North Korea", "Historical Context of North Korea’s Emigration Policies"),
    ("Leaving North Korea", "International Law and Human Rights Implications"),
    ("Leaving North Korea", "Conclusion"),
]


def _article():
    return load_document(CORPUS / "leaving-north-korea.txt", 1 << 20)


def test_article_sections_are_its_headings_plus_opening_introduction_and_conclusion():
    assert [s.path for s in split_sections(_article())] == ARTICLE_SECTIONS


def test_article_sections_start_and_end_where_their_text_does():
    doc = _article()
    sections = split_sections(doc)
    firsts = [doc.text[s.start : s.start + 30] for s in sections]
    assert firsts == [
        "June 25, 2024\nExploring the ch",
        "North Korea is a country shrou",
        "North Korea’s emigration polic",
        "Despite the challenges, many p",
        "North Korea is not the only co",
        "North Korea’s emigration polic",
        "North Korea’s restrictive emig",
        "Leaving North Korea is a diffi",
    ]
    assert doc.text[sections[-1].end - 20 : sections[-1].end] == "ng from North Korea."


def test_comment_form_residue_is_left_out_of_every_section():
    doc = _article()
    body = "".join(doc.text[s.start : s.end] for s in split_sections(doc))
    assert "Leave a Reply" not in body and "email address" not in body


def test_yeonmi_park_sentence_is_in_personal_accounts():
    doc = _article()
    offset = doc.text.index("Yeonmi Park, who escaped")
    section = next(s for s in split_sections(doc) if s.start <= offset < s.end)
    assert section.label == "Leaving North Korea > Personal Accounts of Successful Escape"


def test_heading_shapes():
    assert is_heading_line("Conditions to Leave North Korea")
    assert is_heading_line("A Comparison of North Korea’s Emigration Policies with Other Countries")
    assert not is_heading_line("June 25, 2024")
    assert not is_heading_line("Jo now lives in South Korea.")
    assert not is_heading_line("the regime responded by tightening")


def test_markdown_breadcrumbs_follow_heading_levels():
    doc = load_document(CORPUS / "north-korean-human-rights-act.md", 1 << 20)
    labels = [s.label for s in split_sections(doc)]
    assert (
        "Title 22— FOREIGN RELATIONS AND INTERCOURSE > SUBCHAPTER III— PROTECTING NORTH KOREAN REFUGEES > "
        "§\u202f7842. Eligibility for refugee or asylum consideration > (b) Treatment of nationals of North Korea"
    ) in labels
    assert doc.title.startswith("North Korean Human Rights Act of 2004")
    assert doc.metadata["license"].startswith("Public domain")


def test_markdown_front_matter_is_outside_every_section(tmp_path: Path):
    path = tmp_path / "note.md"
    path.write_text("---\ntitle: A Note\nlicense: CC0\n---\n\nIntro text here.\n\n# Top\n\nBody one.\n\n## Sub\n\nBody two.\n")
    doc = load_document(path, 1 << 20)
    assert doc.title == "A Note"
    assert [(s.path, doc.text[s.start : s.end]) for s in split_sections(doc)] == [
        (("A Note",), "Intro text here."),
        (("Top",), "Body one."),
        (("Top", "Sub"), "Body two."),
    ]
