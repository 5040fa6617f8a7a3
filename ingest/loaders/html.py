"""HTML: the visible text of block elements, one block per paragraph; h1-h6 are headings.

Simplified: page chrome (nav, header, footer, aside, forms, scripts) is dropped by tag name,
not by layout or CSS, except that a <header> inside <article> or <main> is kept because it
usually holds the article's own h1. Inline whitespace is collapsed and <br> is a space;
<pre> keeps its lines. Tables give one block per cell. The encoding is a byte-order mark's,
else the <meta charset> when it names an ASCII-compatible text encoding, else UTF-8.
"""
from __future__ import annotations

import codecs
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from passage.errors import LoadError
from passage.models import Document, Heading

from .base import bom_encoding, clean_title, detail, require_text, source_name, title_from_name

_DROP = ("script", "style", "nav", "noscript", "template", "header", "footer", "aside", "form", "iframe", "svg")
_BLOCKS = {
    "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "hr", "li", "main", "ol", "p", "section", "summary", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_END_OF_BLOCK = object()  # marks, on the walk's stack, where a block element's children end
_PROBE = b'<meta charset="x"> Text 0-9, a-z; A-Z.'
_NOT_FOR_PAGES = {"utf-7", "idna", "unicode-escape", "raw-unicode-escape", "undefined"}
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def load(path: Path, data: bytes) -> Document:
    html = decode_html(path, data)
    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception as exc:  # lxml rarely fails, but a malformed file must not escape as a traceback
        raise LoadError(str(path), f"not valid HTML ({detail(exc)})") from None
    for tag in soup.find_all(_DROP):
        if tag.name == "header" and tag.find_parent(("article", "main")):
            continue
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    text, headings = _extract(soup.body or soup)
    require_text(path, text)
    page_title = clean_title(_collapse(soup.title.get_text())) if soup.title else ""
    first_h1 = next((h.title for h in headings if h.level == 1), None)
    title = page_title or first_h1 or title_from_name(path.stem)
    metadata = {"title": title}
    for name in ("description", "author"):
        meta = soup.find("meta", attrs={"name": re.compile(f"^{name}$", re.IGNORECASE)})
        if meta and (content := _collapse(str(meta.get("content", "")))):
            metadata[name] = content
    return Document(
        source=source_name(path), path=str(path), kind="html", title=title, text=text,
        headings=tuple(headings), metadata=metadata,
    )


def decode_html(path: Path, data: bytes) -> str:
    """Text of `data`: by its byte-order mark, else its declared charset, else UTF-8; LoadError if none fits."""
    if bom := bom_encoding(data):
        candidates = [bom]
    elif b"\x00" in data[:8192]:
        raise LoadError(str(path), "binary content (NUL bytes), not HTML")
    else:
        declared = _CHARSET.search(data[:4096])
        candidates = [c for c in [_usable(declared.group(1)) if declared else None] if c] + ["utf-8-sig"]
    tried: list[str] = []
    where = ""
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            tried.append(encoding.upper().removesuffix("-SIG"))
            where = where or f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        except (UnicodeError, LookupError, ValueError):  # a codec that fails in its own way: try the next
            continue
    raise LoadError(str(path), f"not {' or '.join(tried)} text ({where})")


def _usable(label: bytes) -> str | None:
    """The declared charset if a page can be written in it, else None (then UTF-8 is tried).

    `_usable(b"Windows-1252") == "windows-1252"`; None for UTF-8 itself (tried anyway), unknown
    names, codecs that are not text encodings (base64, rot13), and encodings that do not read
    ASCII as ASCII, so could not have declared themselves in ASCII (UTF-16 without a byte-order
    mark, EBCDIC, punycode), plus UTF-7 and IDNA, which browsers refuse too.
    """
    name = label.decode("ascii", "replace").lower()
    try:
        info = codecs.lookup(name)
        reads_ascii = _PROBE.decode(name) == _PROBE.decode("ascii")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return None
    if not reads_ascii or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FOR_PAGES:
        return None
    return None if info.name in ("utf-8", "utf-8-sig") else name


def _extract(root: Tag) -> tuple[str, list[Heading]]:
    """Blocks joined by blank lines, and the headings among them with their offsets.

    The tree is walked with an explicit stack rather than recursion: how deep elements nest
    is up to the file, and thousands of levels must not exhaust Python's call stack.
    """
    blocks: list[str] = []
    headings: list[Heading] = []
    inline: list[str] = []
    pos = 0

    def add(block: str, level: int = 0) -> None:
        nonlocal pos
        if block:
            if level:
                headings.append(Heading(level, clean_title(block), pos, pos + len(block)))
            blocks.append(block)
            pos += len(block) + 2

    def flush() -> None:
        add(_collapse("".join(inline)))
        inline.clear()

    todo: list = list(reversed(root.contents))
    while todo:
        node = todo.pop()
        if node is _END_OF_BLOCK:
            flush()
        elif isinstance(node, PreformattedString):  # comments, doctypes, CDATA
            continue
        elif isinstance(node, NavigableString):
            inline.append(str(node))
        elif node.name in _HEADINGS:
            flush()
            add(_collapse(node.get_text()), _HEADINGS[node.name])
        elif node.name == "pre":
            flush()
            add(_pre(node))
        elif node.name in _BLOCKS:
            flush()
            todo.append(_END_OF_BLOCK)
            todo.extend(reversed(node.contents))
        else:
            todo.extend(reversed(node.contents))
    flush()
    return "\n\n".join(blocks), headings


def _pre(tag: Tag) -> str:
    """Preformatted text keeps its lines, minus blank ones that would split the block."""
    return "\n".join(line.rstrip() for line in tag.get_text().splitlines() if line.strip())


def _collapse(text: str) -> str:
    """`_collapse("  a \\n b ") == "a b"`."""
    return " ".join(text.split())
