"""The documents page in a real browser: open a document, read a section and its chunks, search
in it, and "ask about this document" limits the chat to it until the filter is removed; the
page stays wide after each of these. Screenshots go to the test's tmp dir and artifacts/screenshots/."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.servers import free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
UDHR = "Universal Declaration of Human Rights"


@pytest.fixture
def app_url(fresh_data_dir, tmp_path):
    port = free_port()
    env = {**os.environ, "PASSAGE_DATA_DIR": str(fresh_data_dir)}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "main.py"), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with serve(command, f"{url}/_stcore/health", tmp_path / "streamlit.log", seconds=240, cwd=tmp_path, env=env):
        yield url


def _save(page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / name))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / name, SCREENSHOTS / name)


def _wide(page) -> float:
    return page.locator("[data-testid='stMainBlockContainer']").bounding_box()["width"]


def _open(page, option: str) -> None:
    box = page.get_by_role("combobox", name="Open a document")
    box.click()
    page.get_by_role("option", name=option).click()


def _sources(page) -> list[str]:
    """The labels of the cited or related passages under the last answer."""
    last = page.locator("[data-testid='stChatMessage']").last
    return last.locator("[data-testid='stExpander'] summary").all_inner_texts()


def test_open_a_document_search_it_and_ask_only_about_it(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.set_default_timeout(120_000)
        page.goto(f"{app_url}/documents")
        expect(page.get_by_role("combobox", name="Open a document")).to_be_visible(timeout=400_000)  # first run loads the model

        _open(page, "Leaving North Korea (leaving-north-korea)")
        view = page.locator(".st-key-document-view")
        expect(view.get_by_text("leaving-north-korea · txt · 8 sections · 16 chunks")).to_be_visible()
        sections = view.locator("[data-testid='stRadio'] label[data-baseweb='radio']")
        expect(sections).to_have_count(8)
        assert sections.nth(1).inner_text().startswith("\u2003Introduction")  # indented under the title
        view.get_by_text("Personal Accounts of Successful Escape").click()
        expect(view.locator(".section-text")).to_contain_text("One such individual is Yeonmi Park")
        expect(view.locator(".section-crumbs")).to_have_text("Leaving North Korea › Personal Accounts of Successful Escape")
        view.get_by_text("The 4 chunks it was cut into").click()
        expect(view.locator(".chunk-head")).to_have_count(4)
        expect(view.locator(".chunk-head").first).to_have_text("Chunk 1 · characters 2,336–2,905 · 120 word pieces")
        assert _wide(page) > 1000
        view.evaluate("e => e.scrollIntoView()")
        _save(page, tmp_path, "document-view.png")

        search = view.get_by_placeholder("Words to find")
        search.fill("gobi desert")
        search.press("Enter")
        expect(view.get_by_text("1 matches in 1 of 8 sections.")).to_be_visible()
        expect(sections).to_have_count(1)
        expect(view.locator(".section-text mark")).to_have_text(["Gobi Desert"])
        assert _wide(page) > 1000

        _open(page, f"{UDHR} ({UDHR.lower().replace(' ', '-')})")
        view.get_by_role("button", name="Ask about this document").click()
        chip = page.get_by_role("button", name=f"Only from: {UDHR}")
        expect(chip).to_be_visible()
        box = page.get_by_placeholder("Ask about leaving North Korea…")
        box.fill("How old was Yeonmi Park when she escaped?")
        box.press("Enter")
        expect(page.locator("[data-testid='stChatMessage']")).to_have_count(2)
        expect(page.locator("[data-testid='stChatMessage']").last.locator("[data-testid='stExpander']").first).to_be_visible()
        labels = _sources(page)
        assert labels and all(UDHR in label for label in labels), labels  # nothing from the escape stories
        _save(page, tmp_path, "chat-filtered.png")

        chip.click()
        expect(chip).to_have_count(0)
        box.fill("How old was Yeonmi Park when she escaped?")
        box.press("Enter")
        expect(page.locator("[data-testid='stChatMessage']")).to_have_count(4)
        expect(page.locator("[data-testid='stChatMessage']").last.locator("[data-testid='stExpander']").first).to_be_visible()
        assert any("Leaving North Korea" in label for label in _sources(page))
        browser.close()
