"""`passage serve`'s API docs in a real browser with every request off the machine refused:
Swagger UI at /docs and ReDoc at /redoc render the operations from files installed with the
product (app/api/docs.py), and no page asks for anything beyond loopback."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.api_server import passage_serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(scope="module")
def api_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    # with a key: the docs and their assets are among the routes that need none
    with passage_serve(folder / "data", folder / "server.log", {"PASSAGE_API_KEY": "docs-key-5c1e"}) as url:
        yield url


@pytest.fixture
def offline_page():
    """A page whose requests to any host but loopback are aborted; yields (page, the refused URLs)."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []

    def only_loopback(route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.route("**/*", only_loopback)
        yield context.new_page(), refused
        browser.close()


def test_swagger_ui_renders_its_operations_offline(api_url, offline_page):
    from playwright.sync_api import expect

    page, refused = offline_page
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if r.failure != "csp" else None)
    page.goto(f"{api_url}/docs")
    expect(page.locator(".opblock-summary-path[data-path='/ask']")).to_be_visible(timeout=30_000)
    paths = page.locator(".opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)")
    assert {"/ask", "/documents", "/health", "/v1/chat/completions"} <= set(paths)
    page.locator(".opblock-summary-path[data-path='/ask']").click()  # an operation opens with its schema
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("passage")
    assert (refused, failed) == ([], [])


def test_redoc_renders_its_operations_offline(api_url, offline_page):
    from playwright.sync_api import expect

    page, refused = offline_page
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url) if r.failure != "csp" else None)
    page.goto(f"{api_url}/redoc")
    expect(page.locator("h1").first).to_contain_text("passage", timeout=30_000)
    expect(page.get_by_text("/ask", exact=True).first).to_be_attached()
    assert page.locator("[data-section-id^='operation/']").count() >= 4
    # ReDoc's sidebar asks for Redocly's logo from their CDN; the page's policy stops it in the browser
    assert (refused, failed) == ([], [])


def test_the_docs_assets_come_from_this_server(api_url):
    import httpx

    html = httpx.get(f"{api_url}/docs").text
    assert "cdn.jsdelivr.net" not in html and "/docs-assets/swagger-ui-bundle.js" in html
    script = httpx.get(f"{api_url}/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 500_000
    redoc = httpx.get(f"{api_url}/redoc")
    assert "fonts.googleapis" not in redoc.text
    assert "img-src 'self' data:;" in redoc.headers["content-security-policy"]
