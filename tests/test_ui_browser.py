"""End to end in a real browser: `streamlit run ui/main.py` on loopback, driven through Debian's
chromium by Playwright. Ask, see a cited answer, open its source; screenshots go to the test's
tmp dir and to artifacts/screenshots/."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.servers import free_port, serve



pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"



HOSTILE = """# Kumquat notes <script>alert(1)</script> ![t](http://127.0.0.1:9/t.png)

Kumquats may cross the border freely ![x](http://127.0.0.1:9/x.png) under the kumquat passage rule <script>alert("x")</script> <img src="http://127.0.0.1:9/y.png" onerror="alert(2)"> since 1999.
"""


@pytest.fixture
def data_dir(fresh_data_dir, embedder, tmp_path):
    """A copy of the corpus index plus one document that tries to run script and fetch images."""
    from passage.settings import Settings
    from app.wiring import build_ingestor

    (tmp_path / "kumquat.md").write_text(HOSTILE)
    assert not build_ingestor(Settings(data_dir=fresh_data_dir), embedder).ingest([tmp_path / "kumquat.md"]).failed
    return fresh_data_dir


@pytest.fixture
def app_url(data_dir, tmp_path):
    """The web chat served by `streamlit run` on a free loopback port."""
    port = free_port()
    env = {**os.environ, "PASSAGE_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "main.py"), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with serve(command, f"{url}/_stcore/health", tmp_path / "streamlit.log", seconds=60, cwd=tmp_path, env=env):
        yield url


def _switch_on(scope, label: str) -> None:
    """Turn a Streamlit switch on. A click that lands while the page is still re-rendering after
    an answer can be lost, so the switch is clicked until it reads as checked."""
    from playwright.sync_api import expect

    switch = scope.get_by_role("switch", name=label)
    for _ in range(5):
        if switch.is_checked():
            return
        scope.get_by_text(label).click()
        try:
            expect(switch).to_be_checked(timeout=3_000)
            return
        except AssertionError:
            continue
    expect(switch).to_be_checked()


def _save(page, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOTS / name)
    return shot


@pytest.mark.timeout(240)
def test_ask_and_open_a_source_in_chromium(app_url, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: run scripts/test.sh, or apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(app_url)

        box = page.get_by_placeholder("Ask about leaving North Korea…")
        expect(box).to_be_visible(timeout=90_000)  # first load builds the model and opens the store
        expect(page.get_by_role("button", name="Why is it so hard to leave North Korea?")).to_be_visible()
        _save(page, tmp_path, "chat-start.png")
        box.fill("How old was Yeonmi Park when she escaped?")
        box.press("Enter")

        answer = page.locator(".answer").last
        expect(answer).to_contain_text("13", timeout=60_000)
        expect(answer).to_contain_text("[1]")
        _save(page, tmp_path, "chat-answer.png")

        source = page.get_by_test_id("stExpander").filter(has_text="[1]").first
        source.locator("summary").click()
        passage = source.locator(".passage")
        expect(passage).to_be_visible()
        expect(passage.locator("mark").first).to_contain_text("Yeonmi Park")
        _switch_on(source, "Read the whole section")
        context = source.locator(".section-context")
        expect(context).to_be_visible(timeout=15_000)
        expect(context).to_contain_text("Personal Accounts of Successful Escape")
        expect(passage).to_be_visible()  # the rerun the switch causes keeps the source open
        shot = _save(page, tmp_path, "chat-source-open.png")

        # A document with <script>, <img onerror> and Markdown images shows them as text.
        box.fill("May kumquats cross the border?")
        box.press("Enter")
        expect(page.locator(".answer")).to_have_count(2, timeout=60_000)
        hostile = page.get_by_test_id("stExpander").filter(has_text="Kumquat notes").first
        hostile.locator("summary").click()
        expect(hostile.locator(".passage")).to_contain_text('<script>alert("x")</script>')
        expect(hostile.locator(".passage")).to_contain_text("![x](http://127.0.0.1:9/x.png)")
        _switch_on(hostile, "Read the whole section")
        expect(hostile.locator(".section-context")).to_contain_text('<img src="http://127.0.0.1:9/y.png" onerror="alert(2)">')
        expect(hostile.locator("summary")).to_contain_text("<script>alert(1)</script>")
        expect(hostile.locator("summary a")).to_have_count(0)  # the URL in the title is not a link
        main = page.get_by_test_id("stMainBlockContainer")
        expect(main).to_have_count(1)
        expect(main.locator("script, img, iframe")).to_have_count(0)
        page.wait_for_timeout(500)  # the expander's opening animation
        _save(page, tmp_path, "chat-hostile-document.png")

        box.fill("What is the capital of France?")
        box.press("Enter")
        expect(page.locator(".abstain")).to_be_visible(timeout=60_000)
        expect(page.get_by_test_id("stExpander").filter(has_text="Related:").first).to_be_visible()
        page.wait_for_timeout(300)
        _save(page, tmp_path, "chat-abstention.png")

        _check_downloads(page, tmp_path)

        page.get_by_test_id("stSidebarNav").get_by_text("Documents").click()
        expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stFileUploaderDropzone")).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 1300})
        page.wait_for_timeout(500)  # let the grid paint its rows
        _save(page, tmp_path, "documents.png")

        page.get_by_test_id("stSidebarNav").get_by_text("Evaluation").click()
        limit = page.get_by_label("Questions to ask", exact=True)
        expect(limit).to_be_visible(timeout=30_000)
        limit.fill("4")
        limit.press("Enter")
        page.get_by_role("button", name="Run 4 questions").click()
        expect(page.get_by_text("of 4 passed")).to_be_visible(timeout=120_000)
        page.get_by_role("tab", name="Plots").click()
        expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
        page.set_viewport_size({"width": 1280, "height": 1700})  # the app scrolls inside; show the whole page
        page.wait_for_timeout(1000)
        _save(page, tmp_path, "evaluation.png")
        browser.close()

    assert shot.stat().st_size > 10_000
    assert dialogs == [], f"a document ran script: {dialogs}"
    outside = [u for u in requests if urlparse(u).hostname not in ("127.0.0.1", None) or ":9/" in u]
    assert outside == [], f"the page fetched from outside the app: {outside}"


QUESTIONS = ["How old was Yeonmi Park when she escaped?", "May kumquats cross the border?", "What is the capital of France?"]


def _check_downloads(page, tmp_path: Path) -> None:
    """The Save menu's files hold the conversation: JSON of the three answers, Markdown with their sources and quotes."""
    from playwright.sync_api import expect

    page.get_by_test_id("stMainBlockContainer").get_by_test_id("stPopover").get_by_role("button").click()
    buttons = page.locator('[data-testid="stDownloadButton"]:visible')  # not the sidebar's chat menus
    expect(buttons).to_have_count(2)
    _save(page, tmp_path, "chat-save-menu.png")
    files = {}
    for label in ("JSON", "Markdown"):
        with page.expect_download() as download:
            buttons.filter(has_text=label).get_by_role("button").click()
        files[download.value.suggested_filename] = Path(download.value.path()).read_text()
    page.keyboard.press("Escape")
    assert sorted(files) == ["passage-conversation.json", "passage-conversation.md"]

    turns = json.loads(files["passage-conversation.json"])["turns"]
    assert [t["question"] for t in turns] == QUESTIONS
    assert [t["abstained"] for t in turns] == [False, False, True]
    assert turns[0]["citations"][0]["section"] == "Leaving North Korea > Personal Accounts of Successful Escape"
    assert turns[1]["citations"][0]["source"] == "kumquat"

    markdown = files["passage-conversation.md"]
    assert markdown.startswith(f"# {QUESTIONS[0]}\n\nExported ")
    assert f"## {QUESTIONS[0]}\n\n" in markdown and "\n\nSources:\n\n[1] " in markdown
    assert [line[3:] for line in markdown.splitlines() if line.startswith("## ")] == QUESTIONS
    for turn in turns[:2]:
        for citation in turn["citations"]:
            start = f"[{citation['n']}] "
            assert any(line.startswith(start) and f"({citation['source']}, characters {citation['start']}-{citation['end']})" in line
                       for line in markdown.splitlines())
            for quote in citation["quotes"]:
                assert "\n> " + quote.strip().splitlines()[0].rstrip() in markdown
    assert f"## {QUESTIONS[2]}\n\n" in markdown and f"{turns[2]['answer']}\n\nRelated passages:\n- " in markdown
