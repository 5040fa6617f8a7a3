"""How answers and passages look. Document text is data, never markup.

Everything that came from a document (passages, titles, quoted sentences, answer text) is
HTML-escaped before it reaches `st.html`, which renders no Markdown, and is Markdown-escaped
before it reaches a label or caption, which do. Quotes are highlighted by escaping first and
then wrapping the escaped quote in <mark>, so a quote can never smuggle a tag in.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

import streamlit as st

from passage.errors import PassageError
from passage.models import Answer, Chunk, Citation, Passage
from rag.citations import markers_html, render_sentence

CSS = Path(__file__).with_name("style.css")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()<>#+!|~$:=^-])")
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=\bwww)(?=\.)|(?=@)", re.IGNORECASE)


def inject_css() -> None:
    st.html(CSS)


def escape_md(text: str) -> str:
    r"""Text that Markdown shows verbatim, on one line: `escape_md("![x](y)") == r"\!\[x\]\(y\)"`.

    Backslashes do not stop GitHub-style autolinks (a bare URL, www. or e-mail address), so a
    zero-width space breaks those up instead.
    """
    text = _AUTOLINK.sub("\u200b", " ".join(str(text).split()))
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def highlight(text: str, quotes: Sequence[str] = ()) -> str:
    """Escaped `text` with each quote wrapped in <mark>: `highlight("a <b> c", ["c"]) == "a &lt;b&gt; <mark>c</mark>"`."""
    spans = sorted(_find(text, q) for q in quotes if q.strip())
    out, pos = [], 0
    for start, end in spans:
        if start < pos or start < 0:
            continue
        out += [html.escape(text[pos:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def mark_words(text: str, words: str) -> str:
    """Escaped `text` with every occurrence of `words` (ignoring case and spacing) in <mark>:
    `mark_words("A <b> a", "a") == "<mark>A</mark> &lt;b&gt; <mark>a</mark>"`."""
    if not words.strip():
        return html.escape(text)
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words.split()), re.IGNORECASE)
    out, pos = [], 0
    for match in pattern.finditer(text):
        out += [html.escape(text[pos:match.start()]), "<mark>", html.escape(match.group()), "</mark>"]
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def answer_html(text: str) -> str:
    """Escaped answer text with its [n] markers drawn as badges (the text "[n]" stays readable)."""
    return markers_html(html.escape(text))


def body_html(answer: Answer) -> str:
    """The answer text; when a sentence is not supported by its cited passages, it is marked."""
    if not any(sentence.supported is False for sentence in answer.sentences):
        return answer_html(answer.text)
    parts = []
    for sentence in answer.sentences:
        text = answer_html(render_sentence(sentence))
        if sentence.supported is False:
            text = f'<span class="unsupported" title="not supported by the cited passages">{text}</span>'
        parts.append(text)
    return " ".join(parts)


def section_trail(chunk: Chunk) -> tuple[str, ...]:
    """The chunk's heading path below its title: `("Introduction",)` for "Leaving North Korea > Introduction"
    in the document "Leaving North Korea"; () for the title's own section."""
    section = chunk.section
    if section.startswith(chunk.title):
        section = section[len(chunk.title):].lstrip(" >")
    elif chunk.title.startswith(section):  # a top section named like a shorter form of the title
        section = ""
    return tuple(p for p in section.split(" > ") if p)


def source_labels(chunks: Sequence[Chunk]) -> list[str]:
    """One label per chunk: the full title and its section breadcrumb (`Title › Part › Article 13.`);
    chunks that would share a label get their page and character range, so no two read the same."""
    base = [" › ".join((c.title, *section_trail(c))) for c in chunks]
    counts = Counter(base)
    return [label if counts[label] == 1 else f"{label} · {where(c)}" for label, c in zip(base, chunks)]


def where(chunk: Chunk) -> str:
    """`where(<chunk of characters 2336-2905 on page 3>) == "p. 3, characters 2,336–2,905"`."""
    span = f"characters {chunk.start:,}–{chunk.end:,}"
    return f"p. {chunk.page}, {span}" if chunk.page else span


def render_answer(answer: Answer, key: str, library) -> None:
    """The answer body (or abstention) with its sources below it."""
    if answer.abstained:
        st.html(f'<div class="abstain"><span class="abstain-icon">?</span>{html.escape(answer.text)}</div>')
        notice(answer)
        if answer.retrieved:
            st.html('<p class="sources-heading">Related passages</p>')
            labels = source_labels([p.chunk for p in answer.retrieved])
            for i, (passage, label) in enumerate(zip(answer.retrieved, labels)):
                render_passage(passage, (), f"Related: {escape_md(label)}", f"{key}-rel{i}", library)
        return
    low = is_low_confidence(answer)
    st.html(f'<div class="answer{" low-confidence" if low else ""}">{body_html(answer)}</div>')
    if low:
        st.caption(f":material/warning: Low confidence ({answer.confidence:.0%}): the quoted sentence may not "
                   "answer the question; check the sources.")
    if any(sentence.supported is False for sentence in answer.sentences):
        st.caption("Underlined sentences are not supported by the passages they cite.")
    notice(answer)
    if answer.citations:
        st.html('<p class="sources-heading">Sources</p>')
        labels = source_labels([c.passage.chunk for c in answer.citations])
        for citation, label in zip(answer.citations, labels):
            render_citation(citation, label, key, library)
    st.caption(escape_md(_footer(answer)))


LOW_CONFIDENCE = 0.5


def is_low_confidence(answer: Answer) -> bool:
    """An answer whose answerer rates it less likely right than not."""
    return not answer.abstained and answer.confidence is not None and answer.confidence < LOW_CONFIDENCE


def notice(answer: Answer) -> None:
    """Why the answer is not what was asked for (e.g. the LLM was down and the extractive one stood in)."""
    if answer.notice:
        st.caption(f":material/info: {escape_md(answer.notice)}")


def render_citation(citation: Citation, label: str, key: str, library) -> None:
    """The citation's passage under `[n] label` (see `source_labels`)."""
    render_passage(citation.passage, citation.quotes, f"[{citation.n}] {escape_md(label)}", f"{key}-c{citation.n}", library)


def render_passage(passage: Passage, quotes: Sequence[str], label: str, key: str, library) -> None:
    """An expander with the passage (quotes marked) and a switch to read its whole section."""
    chunk = passage.chunk
    with st.expander(label, icon=":material/description:", key=f"src-{key}"):
        st.html(f'<div class="passage">{highlight(chunk.text, quotes)}</div>')
        info, ask = st.columns([3, 1], vertical_alignment="center")
        info.caption(escape_md(f"{chunk.source} · {where(chunk)}"))
        from ui import session  # session draws with these components

        ask.button("Ask about this document", key=f"ask-{key}", icon=":material/filter_alt:", type="tertiary",
                   on_click=session.ask_about, args=(chunk.source,), help="Limit the chat to this document.")
        if st.toggle("Read the whole section", key=f"ctx-{key}"):
            text = section_text(library, chunk)
            start = max(text.find(chunk.text), 0)
            before, after = text[:start], text[start + len(chunk.text):]
            body = f'{html.escape(before)}<span class="in-context">{highlight(chunk.text, quotes)}</span>{html.escape(after)}'
            with st.container(height=420 if len(text) > 1500 else "content", border=False):
                st.html(f'<div class="section-context"><div class="section-title">{html.escape(chunk.label)}</div>{body}</div>')


def section_text(library, chunk: Chunk) -> str:
    """The whole section holding `chunk`; the chunk alone when its document is gone from the library."""
    try:
        return library.section_text(chunk.source, chunk.section)
    except PassageError:
        return chunk.text


def _find(text: str, quote: str) -> tuple[int, int]:
    """Span of `quote` in `text`, tolerant of differing white space; (-1, -1) when absent."""
    start = text.find(quote)
    if start >= 0:
        return start, start + len(quote)
    pattern = r"\s+".join(re.escape(word) for word in quote.split())
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else (-1, -1)


def _footer(answer: Answer) -> str:
    parts = [answer.answerer]
    if answer.confidence is not None and not answer.abstained:
        parts.append(f"confidence {answer.confidence:.0%}")
    if answer.groundedness is not None and answer.answerer not in ("extractive", "reader"):
        parts.append(f"{answer.groundedness:.0%} of sentences supported")
    if "total" in answer.timings_ms:
        parts.append(f"{answer.timings_ms['total']:.0f} ms")
    return " · ".join(parts)
