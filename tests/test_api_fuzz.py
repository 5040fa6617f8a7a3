"""Schemathesis (its command line) against a live `passage serve`: requests generated from
/openapi.json, valid and invalid, and not one may get a 5xx. A small corpus keeps it quick;
the LLM endpoint is a closed port, so `"answerer": "llm"` falls back to the extractive
answer at once. The run is bounded: EXAMPLES per operation and phase, TIME_LIMIT_S in all."""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.api_server import passage_serve

pytestmark = pytest.mark.slow

EXAMPLES = 25  # per operation and phase
TIME_LIMIT_S = 900


@pytest.fixture(scope="module")
def api_url(tmp_path_factory, embedder, corpus_files):
    from app.wiring import build_ingestor
    from passage.settings import Settings

    folder = tmp_path_factory.mktemp("fuzz")
    small = [corpus_files / "leaving-north-korea.txt", corpus_files / "universal-declaration-of-human-rights.md"]
    assert not build_ingestor(Settings(data_dir=folder / "data"), embedder).ingest(small).failed
    env = {"PASSAGE_LLM_BASE_URL": "http://127.0.0.1:9/v1", "PASSAGE_LLM_TIMEOUT_S": "5"}
    with passage_serve(folder / "data", folder / "server.log", env) as url:
        # The first answer loads the reading model; on busy cores that alone can pass the request timeout.
        assert httpx.post(f"{url}/ask", json={"question": "Who can be considered a refugee?"}, timeout=600).status_code == 200
        yield url


@pytest.mark.timeout(TIME_LIMIT_S + 60)
def test_no_generated_request_gets_a_server_error(api_url, tmp_path):
    # Schemathesis learns document names from GET /documents and removes them, so removals run
    # last: the other operations meet the corpus, not an emptied index.
    budget = time.monotonic() + TIME_LIMIT_S
    paths = httpx.get(f"{api_url}/openapi.json", timeout=60).json()["paths"].values()
    methods = [method.upper() for operations in paths for method in operations]
    deletes = methods.count("DELETE")
    for selection, operations in ((["--exclude-method", "DELETE"], len(methods) - deletes),
                                  (["--include-method", "DELETE"], deletes)):
        command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{api_url}/openapi.json", *selection,
                   "--checks", "not_a_server_error", "--max-examples", str(EXAMPLES), "--phases", "examples,coverage,fuzzing",
                   "--workers", "1", "--seed", "0", "--generation-database", "none", "--request-timeout", "120",
                   "--suppress-health-check", "all", "--no-color"]
        run = subprocess.run(command, capture_output=True, text=True, timeout=budget - time.monotonic(), cwd=tmp_path)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert f"Tested: {operations}\n" in run.stdout
        generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", run.stdout).groups())
        assert generated == passed >= operations * EXAMPLES
