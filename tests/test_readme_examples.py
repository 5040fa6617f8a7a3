"""The README's examples, run as a reader would paste them, against a live `passage serve`.

Every block between `<!-- example: NAME -->` and `<!-- /example -->` runs: bash with curl,
Python with this checkout's interpreter. Only the server's address differs from the README.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api_server import passage_serve, sse_events

pytestmark = pytest.mark.slow

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
EXAMPLE = re.compile(r"<!-- example: (\w+) -->\n```(\w+)\n(.*?)```\n<!-- /example -->", re.S)
KEY = "readme-key-8d20"  # made up for this test
ADDRESS = "127.0.0.1:8765"


def examples() -> dict[str, tuple[str, str]]:
    return {name: (language, code) for name, language, code in EXAMPLE.findall(README)}


@pytest.fixture(scope="module")
def live(tmp_path_factory, ingested_dir):
    """The server's address, and a second copy of the index for the in-process examples."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ingested_dir, folder / "served")
    shutil.copytree(ingested_dir, folder / "local")
    with passage_serve(folder / "served", folder / "server.log", {"PASSAGE_API_KEY": KEY}) as url:
        yield url.removeprefix("http://"), folder


def run(name: str, live, tmp_path) -> str:
    address, folder = live
    language, code = examples()[name]
    code = code.replace(ADDRESS, address)
    command = ["bash", "-euo", "pipefail", "-c", code] if language == "bash" else [sys.executable, "-c", code]
    env = {**os.environ, "PASSAGE_API_KEY": KEY, "PASSAGE_DATA_DIR": str(folder / "local")}
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_every_example_is_tested():
    assert list(examples()) == ["http", "openai", "langchain", "export"]
    assert all(ADDRESS in code for name, (_, code) in examples().items() if name in ("http", "openai"))


def test_http_example(live, tmp_path):
    out = run("http", live, tmp_path)
    answer, end = json.JSONDecoder().raw_decode(out)  # curl prints the bodies back to back
    rest = out[end:]
    assert answer["question"] == "How old was Yeonmi Park when she escaped?"
    assert answer["citations"][0]["source"] == "leaving-north-korea" and len(answer["retrieved"]) == 3
    stream, uploaded = rest.rsplit("\n\n", 1)
    events = sse_events(stream)
    assert events[-1][0] == "answer"
    assert json.loads(events[-1][1])["answer"] == "".join(data for _, data in events[:-1])
    assert uploaded == ('{"documents":[{"file":"kumquat.md","source":"kumquat","status":"new","chunks":1}]}'
                        '{"source":"kumquat","chunks":1}')


def test_openai_example(live, tmp_path):
    out = run("openai", live, tmp_path)
    content = out.split("\nleaving-north-korea\n")[0]
    assert out == f"{content}\nleaving-north-korea\n{content}"  # the reply, its first source, the same reply streamed
    assert "Yeonmi Park" in content and content.endswith(
        "\n\nSources:\n[1] Leaving North Korea > Personal Accounts of Successful Escape")


def test_langchain_example(live, tmp_path):
    rows = [line.split(" | ") for line in run("langchain", live, tmp_path).splitlines()]
    assert len(rows) == 3
    assert rows[0][:2] == ["leaving-north-korea", "Leaving North Korea > Personal Accounts of Successful Escape"]


def test_export_example(live, tmp_path):
    out = run("export", live, tmp_path)
    assert out == "# Tell me about Yeonmi Park.\n"
    markdown = (tmp_path / "conversation.md").read_text()
    assert "\n\n## How old was she when she got out?\n\nAsked " in markdown
    assert "\n\nSources:\n\n[1] Leaving North Korea > Personal Accounts of Successful Escape (leaving-north-korea, characters " in markdown
    saved = json.loads((tmp_path / "conversation.json").read_text())
    assert [turn["question"] for turn in saved["turns"]] == ["Tell me about Yeonmi Park.", "How old was she when she got out?"]
    assert "13" in saved["turns"][1]["answer"] and KEY not in json.dumps(saved)
