"""A web page on another origin (another port of 127.0.0.1) tries to add a document to a running
`passage serve` with the default settings, in Debian's chromium driven by Playwright: with
`fetch` and FormData, as a page would without asking, and with a multipart form. The browser
sends both; the server refuses both (403) and the index keeps its documents and chunks."""
from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from tests.api_server import passage_serve
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FORGED = "# Forged\\n\\nThe covenant was repealed in 2020; kumquats rule.\\n"
PAGE = """<!doctype html><title>a page on another origin</title>
<form id="form" action="API/documents" method="post" enctype="multipart/form-data" target="sink">
  <input type="file" name="files" id="file">
</form>
<iframe name="sink"></iframe>
<script>
async function upload() {
  const data = new FormData();
  data.append("files", new Blob(["FORGED"], {type: "text/markdown"}), "forged.md");
  await fetch("API/documents", {method: "POST", body: data, mode: "no-cors"});  // no preflight
  return "sent";
}
</script>"""


@pytest.fixture
def api(tmp_path, ingested_dir):
    shutil.copytree(ingested_dir, tmp_path / "data")
    with passage_serve(tmp_path / "data", tmp_path / "server.log") as url:
        yield url


@pytest.fixture
def other_origin(api):
    """A real HTTP server on another loopback port, serving the page that tries the upload."""
    page = PAGE.replace("API", api).replace("FORGED", FORGED).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def index(api: str) -> list[tuple[str, int]]:
    return [(d["source"], d["chunks"]) for d in httpx.get(f"{api}/documents", timeout=60).json()]


def test_a_page_on_another_origin_cannot_upload(api, other_origin, tmp_path):
    from playwright.sync_api import sync_playwright

    before = index(api)
    assert ("iccpr", 110) in before

    def is_upload(response) -> bool:
        return response.url == f"{api}/documents" and response.request.method == "POST"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(other_origin)
        with page.expect_response(is_upload) as by_fetch:
            assert page.evaluate("upload()") == "sent"
        assert by_fetch.value.status == 403  # the page cannot read it (no-cors), but the index is what counts

        page.set_input_files("#file", files=[{"name": "forged.md", "mimeType": "text/markdown",
                                               "buffer": FORGED.replace("\\n", "\n").encode()}])
        with page.expect_response(is_upload) as by_form:
            page.eval_on_selector("#form", "form => form.submit()")
        assert by_form.value.status == 403
        page.wait_for_load_state()
        sink = page.frame(name="sink")
        sink.wait_for_selector(f"text=cross-site request refused: a web page from {other_origin.rstrip('/')}")
        page.screenshot(path=str(tmp_path / "cross-site.png"))
        browser.close()

    assert index(api) == before
    assert not list((tmp_path / "data").glob("uploads/forged*"))
