"""The tests never read the developer's PASSAGE_* variables, .env or data folder, not even in the
session fixtures built before any test (the embedding model, the ingested corpus)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

INNER = '''
import os
from pathlib import Path

import pytest

from passage.settings import load_settings


@pytest.fixture(scope="session")
def seen():
    """What a session fixture sees when it is built: the settings and the working folder."""
    return load_settings(), Path.cwd()


def test_session_fixtures_see_no_developer_settings(seen):
    settings, cwd = seen
    assert (settings.k, settings.mode, settings.embedder) == (5, "hybrid", "torch")
    assert cwd != Path(os.environ["OUTER_CWD"])
    assert Path(os.environ["OUTER_DATA"]) not in (settings.data_dir, *settings.data_dir.parents)
    assert not Path(os.environ["OUTER_CWD"], ".passage").exists()
'''


@pytest.fixture(scope="session")
def session_view():
    """The environment a session fixture is built in (after the autouse isolation, if it works)."""
    return {name: value for name, value in os.environ.items() if name.startswith(("PASSAGE_", "XDG_DATA_HOME"))}, Path.cwd()


def test_session_fixtures_are_built_in_a_temporary_folder(session_view, tmp_path_factory):
    env, cwd = session_view
    assert cwd.is_relative_to(tmp_path_factory.getbasetemp()) and not cwd.is_relative_to(ROOT)
    assert Path(env["XDG_DATA_HOME"]).is_relative_to(tmp_path_factory.getbasetemp())
    assert {k for k in env if k.startswith("PASSAGE_")} <= {"PASSAGE_EMBEDDER", "PASSAGE_TEST_CHROMA_URL"}


def test_a_developers_variables_and_env_file_do_not_reach_session_fixtures(tmp_path):
    """A pytest run started from a folder with a .env, under PASSAGE_* variables, with this
    suite's conftest: its session fixtures read the defaults."""
    outer = tmp_path / "developer"
    outer.mkdir()
    (outer / ".env").write_text("PASSAGE_MODE=bm25\nPASSAGE_K=9\n")
    (outer / "test_inner.py").write_text(INNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PASSAGE_K": "7", "PASSAGE_EMBEDDER": "onnx",
           "PASSAGE_DATA_DIR": str(outer / ".passage"), "OUTER_CWD": str(outer), "OUTER_DATA": str(outer)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
                           "--rootdir", str(outer), "test_inner.py"], cwd=outer, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
