"""The evaluation page in a real browser: a split and a sample in the test set's mix, a run with a
progress bar, its scores (abstention scored, not "–"), and the page stays wide throughout."""
from __future__ import annotations

import re

import pytest

from rag.evaluation.sample import mix, stratified_sample
from rag.evaluation.testset import load_testset
from tests.test_ui_documents_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, _save, _wide, app_url  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_sampled_run_in_the_mix_with_a_progress_bar(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    sample = stratified_sample(load_testset(ROOT / "corpus" / "testset.jsonl", "test"), 6)
    counts = mix(sample)
    assert counts == {"answerable": 4, "unanswerable": 1, "follow-up": 1}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.set_default_timeout(180_000)
        page.goto(f"{app_url}/evaluation")
        size = page.get_by_label("Questions to ask")
        size.fill("6")
        size.press("Enter")
        expect(page.get_by_text("4 answerable, 1 unanswerable, 1 follow-up, drawn from 125 questions")).to_be_visible()
        page.get_by_role("button", name=re.compile(r"^Run 6 questions")).click()
        expect(page.get_by_text(re.compile(r"Asked \d of 6 questions"))).to_be_visible()  # the progress bar
        expect(page.get_by_text(re.compile(r"\d of 6 passed"))).to_be_visible()
        assert _wide(page) > 1000
        abstention = page.locator("[data-testid='stMetric']").filter(has_text="abstention F1")
        assert re.search(r"\d\.\d\d", abstention.inner_text())
        _save(page, tmp_path, "evaluation.png")
        browser.close()
