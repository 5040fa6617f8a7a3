"""Driving the web page through Streamlit's AppTest, shared by the page tests."""
from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "main.py"
TIMEOUT = 90


def app(data_dir: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("PASSAGE_DATA_DIR", str(data_dir))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    return at.run()


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def htmls(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html")]


def answers(at: AppTest) -> list:
    return [m["answer"] for m in at.session_state["messages"] if "answer" in m]


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def tags(html: str) -> set[tuple[str, tuple[str, ...]]]:
    """The (tag, attribute names) pairs a browser would build from `html`."""
    from html.parser import HTMLParser

    found = set()
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.add((tag, tuple(name for name, _ in attrs)))
    parser.feed(html)
    return found


def unescape_md(label: str) -> str:
    return re.sub(r"\\(.)", r"\1", label)
