"""Citation labels: full titles, section breadcrumbs, and no two alike; search marks in a document."""
from __future__ import annotations

from passage.models import Chunk
from ui.components import mark_words, source_labels, where

COI = "Statement by Mr Michael Kirby, Chair of the Commission of Inquiry on Human Rights in the Democratic People's Republic of Korea"


def chunk(title: str, section: str, start: int, end: int, page: int | None = None) -> Chunk:
    return Chunk(f"{start}", "doc", title, section, "text", start, end, page, 5, "")


def test_labels_keep_the_whole_title_and_the_breadcrumb():
    labels = source_labels([chunk(COI, f"{COI} > Findings > Crimes against humanity", 0, 90),
                            chunk("Leaving North Korea", "Leaving North Korea", 100, 200)])
    assert labels == [f"{COI} › Findings › Crimes against humanity", "Leaving North Korea"]


def test_two_citations_of_one_section_are_told_apart_by_where_they_are():
    labels = source_labels([chunk("Act", "Act > Sec. 3", 2336, 2905), chunk("Act", "Act > Sec. 3", 3152, 3646, page=4),
                            chunk("Act", "Act > Sec. 4", 5000, 5100)])
    assert labels == ["Act › Sec. 3 · characters 2,336–2,905", "Act › Sec. 3 · p. 4, characters 3,152–3,646", "Act › Sec. 4"]
    assert len(set(labels)) == 3


def test_a_top_section_named_like_a_short_title_adds_nothing():
    assert source_labels([chunk("Universal Declaration of Human Rights (1948)", "Universal Declaration", 0, 5)]) == [
        "Universal Declaration of Human Rights (1948)"]
    assert where(chunk("t", "t", 1, 1536)) == "characters 1–1,536"


def test_search_marks_are_case_blind_and_escape_the_text():
    assert mark_words("Yeonmi <b>yeonmi</b>", "YEONMI") == "<mark>Yeonmi</mark> &lt;b&gt;<mark>yeonmi</mark>&lt;/b&gt;"
    assert mark_words("North\nKorea", "north korea") == "<mark>North\nKorea</mark>"
    assert mark_words("a <i>", "  ") == "a &lt;i&gt;"
