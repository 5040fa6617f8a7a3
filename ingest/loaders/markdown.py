"""Markdown: YAML front matter becomes metadata; ATX headings (`#` .. `######`) are headings.

Front matter is read within limits (size, YAML aliases, nesting) that real front matter never
reaches, so a few hostile bytes cannot claim gigabytes. Fenced code blocks are skipped when
looking for headings. Offsets point into the whole file, front matter included, so a
citation's offsets locate the text in the file as it is.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from passage.errors import LoadError
from passage.models import Document, Heading

from .base import clean_title, require_text, source_name, title_from_name

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*)")  # the closing #s are cut in code: a regex for them backtracks
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")
MAX_FRONT_MATTER = 64 * 1024  # characters of YAML read; real front matter is a few hundred
MAX_ALIASES = 8  # each alias can multiply what str() of a value writes out
MAX_DEPTH = 32


def load(path: Path, text: str) -> Document:
    metadata, body_start = front_matter(path, text)
    require_text(path, text[body_start:])
    headings = tuple(_headings(text, body_start))
    first_h1 = next((h.title for h in headings if h.level == 1), None)
    title = clean_title(metadata.get("title", "")) or first_h1 or title_from_name(path.stem)
    return Document(
        source=source_name(path), path=str(path), kind="md", title=title, text=text,
        headings=headings, metadata=metadata, body_start=body_start,
    )


def front_matter(path: Path, text: str) -> tuple[dict[str, str], int]:
    """(metadata, offset where the body starts); no front matter gives ({}, 0)."""
    if not text.startswith("---\n"):
        return {}, 0
    close = re.search(r"^---[ \t]*$", text[4:], re.MULTILINE)
    if close is None:
        raise LoadError(str(path), "front matter opened with '---' is never closed")
    data = _parse_front_matter(path, text[4 : 4 + close.start()])
    body_start = 4 + close.end() + 1
    return {str(k): str(v) for k, v in data.items() if v is not None}, min(body_start, len(text))


def _parse_front_matter(path: Path, block: str) -> dict:
    """YAML, or failing that `key: value` lines (real-world front matter often has stray colons)."""
    if len(block) > MAX_FRONT_MATTER:
        raise LoadError(str(path), f"front matter is {len(block):,} characters; at most {MAX_FRONT_MATTER:,} are read")
    try:
        _check_yaml_shape(path, block)
        data = yaml.safe_load(block) or {}
        if isinstance(data, dict):
            return data
    except (yaml.YAMLError, ValueError):  # ValueError: e.g. an integer of over 4,300 digits, a 13th month
        pass
    data: dict[str, str] = {}
    for number, line in enumerate(block.splitlines(), start=2):
        if not line.strip():
            continue
        if m := _KEY_LINE.match(line):
            data[m.group(1)] = m.group(2).strip().strip("\"'")
        elif line[:1].isspace() and data:
            data[list(data)[-1]] += " " + line.strip()
        else:
            raise LoadError(str(path), f"malformed front matter at line {number}: expected 'key: value'")
    return data


def _check_yaml_shape(path: Path, block: str) -> None:
    """Refuse YAML that would be costly to build, reading its events before any object exists.

    Aliases let a few hundred bytes stand for billions of values ("billion laughs"), and deep
    nesting exhausts the call stack of PyYAML's composer: front matter needs neither.
    """
    aliases = depth = 0
    for event in yaml.parse(block, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise LoadError(str(path), f"front matter uses more than {MAX_ALIASES} YAML aliases")
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise LoadError(str(path), f"front matter nests deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _headings(text: str, body_start: int) -> list[Heading]:
    out, pos, fenced = [], 0, False
    for line in text.split("\n"):
        if pos >= body_start:
            if _FENCE.match(line):
                fenced = not fenced
            elif not fenced and (m := _HEADING.match(line)) and (title := _heading_title(m.group(2))):
                out.append(Heading(len(m.group(1)), clean_title(title), pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _heading_title(rest: str) -> str:
    """An ATX heading's text without its closing #s: `_heading_title("Crossing ## ") == "Crossing"`."""
    core = rest.rstrip(" \t").rstrip("#").rstrip(" \t") or rest[:1]
    return core.strip()
