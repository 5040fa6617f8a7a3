"""Saved chats in a real browser: `streamlit run ui/main.py` on loopback, driven through Debian's
chromium by Playwright. Ask, reload, the chat is there; New chat, the earlier one is listed,
reopens, and a follow-up asked there uses its context. Screenshots go to artifacts/screenshots/
and, for a look by hand, to /tmp/shots/."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from app.conversations import ConversationStore
from passage.settings import Settings
from tests.servers import free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parent.parent
SHOTS = (ROOT / "artifacts" / "screenshots", Path("/tmp/shots"))
FIRST = "Tell me about Yeonmi Park."
FOLLOW_UP = "How old was she when she got out?"


@pytest.fixture
def app_url(fresh_data_dir, tmp_path):
    port = free_port()
    # The extractive answerer is the quickest, and its answers show the follow-up's context: alone,
    # "How old was she when she got out?" abstains; after FIRST it answers with Yeonmi Park's age.
    env = {**os.environ, "PASSAGE_DATA_DIR": str(fresh_data_dir), "PASSAGE_ANSWERER": "extractive"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "main.py"), "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    url = f"http://127.0.0.1:{port}"
    with serve(command, f"{url}/_stcore/health", tmp_path / "streamlit.log", seconds=180, cwd=tmp_path, env=env):
        yield url


def _save(page, name: str) -> None:
    for folder in SHOTS:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / name), full_page=True)


def _chat_param(page) -> str | None:
    return parse_qs(urlparse(page.url).query).get("chat", [None])[0]


@pytest.mark.timeout(900)  # the first test of a session ingests the corpus
def test_a_chat_survives_a_reload_and_reopens_with_its_context(app_url, fresh_data_dir):
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: run scripts/test.sh, or apt-get install chromium")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(app_url)
        box = page.get_by_placeholder("Ask about leaving North Korea…")
        expect(box).to_be_visible(timeout=240_000)  # the first load builds the model and opens the store
        box.fill(FIRST)
        box.press("Enter")
        expect(page.locator(".answer, .abstain").first).to_contain_text("Yeonmi Park", timeout=60_000)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_role("button", name=FIRST)).to_be_visible(timeout=15_000)
        page.wait_for_function("() => location.search.includes('chat=')", timeout=15_000)
        chat_id = _chat_param(page)
        (saved,) = ConversationStore(Settings(data_dir=fresh_data_dir).conversations_db).list()
        assert (chat_id, saved.title, saved.turn_count) == (saved.id, FIRST, 1)
        _save(page, "conversation-chat.png")

        page.reload()
        main = page.get_by_test_id("stMainBlockContainer")
        expect(main.get_by_test_id("stChatMessage").first).to_contain_text(FIRST, timeout=90_000)
        expect(main.locator(".answer, .abstain")).to_have_count(1)
        assert _chat_param(page) == chat_id

        page.get_by_role("button", name="New chat").click()
        expect(page.get_by_role("button", name="Why is it so hard to leave North Korea?")).to_be_visible(timeout=30_000)
        expect(main.locator(".answer, .abstain")).to_have_count(0)
        page.wait_for_function("() => !location.search.includes('chat=')", timeout=15_000)
        listed = sidebar.get_by_role("button", name=FIRST)
        expect(listed).to_be_visible()

        listed.click()
        expect(main.get_by_test_id("stChatMessage").first).to_contain_text(FIRST, timeout=30_000)
        expect(main.locator(".answer, .abstain")).to_have_count(1)
        page.wait_for_function(f"() => location.search.includes('chat={chat_id}')", timeout=15_000)
        box.fill(FOLLOW_UP)
        box.press("Enter")
        expect(main.locator(".answer, .abstain")).to_have_count(2, timeout=60_000)
        expect(main.locator(".answer, .abstain").last).to_have_class("answer")  # not an abstention
        expect(main.locator(".answer").last).to_contain_text("Yeonmi Park")
        expect(main.locator(".answer").last).to_contain_text("13")
        page.wait_for_timeout(500)
        _save(page, "conversation-reopened.png")
        exported = _export_json(page, main)
        assert [t["question"] for t in exported["turns"]] == [FIRST, FOLLOW_UP]
        assert exported["id"] == chat_id and exported["version"] == "0.1.0"
        assert all({"asked_at", "answered_at", "low_confidence", "confidence", "settings"} <= set(t) for t in exported["turns"])
        assert exported["turns"][1]["settings"]["answerer"] == "extractive"

        fresh = browser.new_page(viewport={"width": 1280, "height": 1000})  # the link alone opens it elsewhere
        fresh.goto(f"{app_url}/?chat={chat_id}")
        expect(fresh.get_by_test_id("stMainBlockContainer").locator(".answer, .abstain")).to_have_count(2, timeout=90_000)
        browser.close()

    turns = ConversationStore(Settings(data_dir=fresh_data_dir).conversations_db).get(chat_id).turns
    assert [t.question for t in turns] == [FIRST, FOLLOW_UP]
    assert "Yeonmi Park" in turns[1].answer.text and not turns[1].abstained


def _export_json(page, main) -> dict:
    """The open chat's JSON from the chat page's Save menu."""
    import json

    from playwright.sync_api import expect

    main.get_by_test_id("stPopover").get_by_role("button").click()
    button = page.locator('[data-testid="stDownloadButton"]:visible').filter(has_text="JSON")
    expect(button).to_have_count(1)
    _save(page, "conversation-save-menu.png")
    with page.expect_download() as download:
        button.get_by_role("button").click()
    page.keyboard.press("Escape")
    assert download.value.suggested_filename == "passage-conversation.json"
    return json.loads(Path(download.value.path()).read_text())
