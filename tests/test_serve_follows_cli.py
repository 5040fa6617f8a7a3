"""A running `passage serve` follows what the `passage` command writes into its data folder:
a document another process adds is found by dense search and can be asked about alone, and one
it removes is gone, without restarting the server."""
from __future__ import annotations

import httpx
import pytest

from tests import cli_driver
from tests.api_server import passage_serve

pytestmark = pytest.mark.slow

FERRY = "# Ferry notes\n\nThe ferry leaves the harbour at dawn every Tuesday and returns at dusk.\n"
KUMQUAT = "# Kumquat notes\n\nKumquats may cross the border freely under the kumquat passage rule since 1999.\n"
QUESTION = "Which rule lets kumquats cross the border?"


def cli(*args: str) -> None:
    proc = cli_driver.run(*args)
    assert proc.returncode == 0, proc.stderr


def ask(client: httpx.Client, **options) -> httpx.Response:
    return client.post("/ask", json={"question": QUESTION, "mode": "dense", "answerer": "extractive", **options})


def test_serve_sees_a_cli_ingest_and_removal_in_its_data_folder(tmp_path):
    data_dir, docs = tmp_path / "data", tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.md").write_text(FERRY)
    cli("ingest", str(docs / "ferry.md"), "--data-dir", str(data_dir))
    with passage_serve(data_dir, tmp_path / "server.log") as url, httpx.Client(base_url=url, timeout=120) as client:
        before = ask(client)
        assert before.status_code == 200 and {p["source"] for p in before.json()["retrieved"]} == {"ferry"}

        (docs / "kumquat.md").write_text(KUMQUAT)
        cli("ingest", str(docs / "kumquat.md"), "--data-dir", str(data_dir))
        assert sorted(d["source"] for d in client.get("/documents").json()) == ["ferry", "kumquat"]
        found = ask(client)
        assert found.status_code == 200, found.text
        assert found.json()["retrieved"][0]["source"] == "kumquat"
        alone = ask(client, source="kumquat")
        assert alone.status_code == 200, alone.text
        assert [p["source"] for p in alone.json()["retrieved"]] == ["kumquat"]

        cli("docs", "remove", "kumquat", "--data-dir", str(data_dir))
        after = ask(client)
        assert after.status_code == 200, after.text
        assert {p["source"] for p in after.json()["retrieved"]} == {"ferry"}
        gone = ask(client, source="kumquat")
        assert (gone.status_code, gone.json()) == (400, {"error": "no document 'kumquat'; choose one of: ferry"})
