"""HTML: the visible text of block elements, one block per paragraph; h1-h6 are headings.

Simplified: page chrome (nav, header, footer, aside, forms, scripts) is dropped by tag name,
not by layout or CSS, except that a <header> inside <article> or <main> is kept because it
usually holds the article's own h1. Inline whitespace is collapsed and <br> is a space;
<pre> keeps its lines. Tables give one block per cell. The encoding is the <meta charset>
(or a UTF-16 byte-order mark), else UTF-8.
"""
from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from passage.errors import LoadError, one_line
from passage.models import Document, Heading

from .base import require_text, title_from_name

_DROP = ("script", "style", "nav", "noscript", "template", "header", "footer", "aside", "form", "iframe", "svg")
_BLOCKS = {
    "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "hr", "li", "main", "ol", "p", "section", "summary", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def load(path: Path, data: bytes) -> Document:
    html = decode_html(path, data)
    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception as exc:  # lxml rarely fails, but a malformed file must not escape as a traceback
        raise LoadError(str(path), f"not valid HTML ({one_line(exc)})") from None
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
    page_title = _collapse(soup.title.get_text()) if soup.title else ""
    first_h1 = next((h.title for h in headings if h.level == 1), None)
    title = page_title or first_h1 or title_from_name(path.stem)
    metadata = {"title": title}
    for name in ("description", "author"):
        meta = soup.find("meta", attrs={"name": re.compile(f"^{name}$", re.IGNORECASE)})
        if meta and (content := _collapse(str(meta.get("content", "")))):
            metadata[name] = content
    return Document(
        source=path.stem, path=str(path), kind="html", title=title, text=text,
        headings=tuple(headings), metadata=metadata,
    )


def decode_html(path: Path, data: bytes) -> str:
    """Text of `data` in its declared charset (falling back to UTF-8); LoadError if neither fits."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    elif b"\x00" in data[:8192]:
        raise LoadError(str(path), "binary content (NUL bytes), not HTML")
    else:
        declared = _CHARSET.search(data[:4096])
        candidates = [declared.group(1).decode("ascii").lower()] if declared else []
        candidates = [c for c in candidates if c not in ("utf-8", "utf8")] + ["utf-8-sig"]
    tried: list[str] = []
    for encoding in candidates:
        try:
            return data.decode(encoding)
        except LookupError:  # an unknown charset name: fall through to UTF-8
            continue
        except UnicodeDecodeError as exc:
            tried.append(encoding.upper().removesuffix("-SIG"))
            where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
    raise LoadError(str(path), f"not {' or '.join(tried)} text ({where})")


def _extract(root: Tag) -> tuple[str, list[Heading]]:
    """Blocks joined by blank lines, and the headings among them with their offsets."""
    blocks: list[str] = []
    headings: list[Heading] = []
    inline: list[str] = []
    pos = 0

    def add(block: str, level: int = 0) -> None:
        nonlocal pos
        if block:
            if level:
                headings.append(Heading(level, block, pos, pos + len(block)))
            blocks.append(block)
            pos += len(block) + 2

    def flush() -> None:
        add(_collapse("".join(inline)))
        inline.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctypes, CDATA
                continue
            if isinstance(child, NavigableString):
                inline.append(str(child))
            elif child.name in _HEADINGS:
                flush()
                add(_collapse(child.get_text()), _HEADINGS[child.name])
            elif child.name == "pre":
                flush()
                add(_pre(child))
            elif child.name in _BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(root)
    flush()
    return "\n\n".join(blocks), headings


def _pre(tag: Tag) -> str:
    """Preformatted text keeps its lines, minus blank ones that would split the block."""
    return "\n".join(line.rstrip() for line in tag.get_text().splitlines() if line.strip())


def _collapse(text: str) -> str:
    """`_collapse("  a \\n b ") == "a b"`."""
    return " ".join(text.split())
