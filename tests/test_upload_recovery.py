"""An upload cut off by a crash is put right when the server starts again: a new document's file
that never got indexed is deleted (its request got no reply), a replacement file that did not get
indexed is indexed. Real `passage serve` processes, killed with SIGKILL in the middle of an upload."""
from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from tests import cli_driver
from tests.api_server import passage_serve
from tests.servers import free_port, serve

pytestmark = pytest.mark.slow

OLD = b"# Kumquat notes\n\nKumquats may cross the border freely under the kumquat passage rule since 1999.\n"
NEW = b"# Kumquat notes\n\nKumquats may cross the border only on Sundays under the amended kumquat rule of 2024.\n"
FERRY = b"# Ferry notes\n\nThe ferry leaves the harbour at dawn every Tuesday and returns at dusk.\n"


def test_an_upload_killed_midway_is_finished_or_cleaned_on_the_next_start(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*cli_driver.COMMAND, "serve", "--port", str(port), "--data-dir", str(data_dir)]
    # Paused after the first chunks of the second upload are written, before any of its records.
    env = cli_driver.env(PAUSE_AT="upsert:2", PAUSE_DIR=str(tmp_path))
    with serve(command, f"{url}/health", tmp_path / "first.log", seconds=240, env=env) as proc:
        with httpx.Client(base_url=url, timeout=120) as client:
            first = client.post("/documents", files=[("files", ("kumquat.md", OLD))])
            assert first.status_code == 201, first.text
            time.sleep(1.5)  # the replacement is written a second after the first version was indexed
            cut = threading.Thread(target=_post_quietly, args=(url, [("files", ("kumquat.md", NEW)), ("files", ("ferry.md", FERRY))]))
            cut.start()
            cli_driver.wait_for(tmp_path / "paused", proc)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
            cut.join(timeout=30)
    assert sorted(p.name for p in (data_dir / "uploads").iterdir()) == ["ferry.md", "kumquat.md"]

    with passage_serve(data_dir, tmp_path / "second.log") as url, httpx.Client(base_url=url, timeout=120) as client:
        assert sorted(p.name for p in (data_dir / "uploads").iterdir()) == ["kumquat.md"]
        assert [d["source"] for d in client.get("/documents").json()] == ["kumquat"]
        answer = client.post("/ask", json={"question": "When may kumquats cross the border?", "source": "kumquat",
                                           "answerer": "extractive"}).json()
        assert "only on Sundays" in answer["citations"][0]["text"]
    log = (tmp_path / "second.log").read_text()
    assert f"deleted {data_dir / 'uploads' / 'ferry.md'}: an upload cut off before it was indexed" in log
    assert f"indexed {data_dir / 'uploads' / 'kumquat.md'} again" in log


def _post_quietly(url: str, files: list) -> None:
    """Send an upload whose server is killed before it replies."""
    try:
        httpx.post(f"{url}/documents", files=files, timeout=120)
    except httpx.HTTPError:
        pass
