"""The per-user home: with no setting, `passage ask` and the LangChain retriever work from any
folder, on the bundled corpus added there on first use; a named `./.passage` still works."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.bundled import MARKER
from passage.home import default_data_dir
from passage.settings import Settings
from tests.conftest import ROOT

PASSAGE = str(Path(sys.executable).with_name("passage"))  # the installed command, not this checkout's path
LANGCHAIN = """
from app.wiring import build_assistant
from passage.settings import Settings
from rag.integrations.langchain import PassageRetriever

retriever = PassageRetriever(retriever=build_assistant(Settings()).retriever, k=3)
for doc in retriever.invoke("How old was Yeonmi Park when she escaped?"):
    print(doc.metadata["source"])
"""


def outside(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working folder outside the repository, and an environment whose home is under tmp_path."""
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSAGE_") and k != "PYTHONPATH"}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
               PASSAGE_EMBEDDER="torch")  # no data folder named
    return work, env


def test_the_default_data_dir_is_the_per_user_one(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = Settings()
    assert settings.data_dir == default_data_dir() == tmp_path / "xdg" / "passage"
    assert settings.is_home
    assert not Settings(data_dir=".passage").is_home
    assert not Settings(chroma_url="http://127.0.0.1:8000").is_home


@pytest.mark.slow
def test_ask_and_the_langchain_retriever_work_from_any_folder(tmp_path):
    work, env = outside(tmp_path)
    assert not work.resolve().is_relative_to(ROOT)
    proc = subprocess.run([PASSAGE, "ask", "How old was Yeonmi Park when she escaped?", "--json"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and answer["citations"][0]["source"] == "leaving-north-korea"
    assert "first use of" in proc.stderr  # it says why the first answer takes a while
    home = tmp_path / "home" / ".local" / "share" / "passage"
    assert (home / MARKER).is_file() and (home / "chroma").is_dir()
    assert list(work.iterdir()) == []  # nothing written where the command ran

    proc = subprocess.run([sys.executable, "-c", LANGCHAIN], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "leaving-north-korea"
    assert "first use of" not in proc.stderr  # added once


@pytest.mark.slow
def test_a_named_dot_passage_folder_keeps_working(tmp_path, ingested_dir):
    work, env = outside(tmp_path)
    shutil.copytree(ingested_dir, work / ".passage")
    proc = subprocess.run([PASSAGE, "docs", "list", "--json", "--data-dir", ".passage"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "leaving-north-korea" in {d["source"] for d in json.loads(proc.stdout)}
    assert not (tmp_path / "home" / ".local" / "share" / "passage").exists()  # the home is not touched


@pytest.mark.slow
def test_an_emptied_home_stays_empty_and_says_what_to_run(tmp_path, ingested_dir):
    work, env = outside(tmp_path)
    home = tmp_path / "home" / ".local" / "share" / "passage"
    home.parent.mkdir(parents=True)
    shutil.copytree(ingested_dir, home)
    (home / MARKER).touch()
    for source in json.loads(subprocess.run([PASSAGE, "docs", "list", "--json"], cwd=work, env=env, capture_output=True,
                                            text=True, timeout=600, check=True).stdout):
        subprocess.run([PASSAGE, "docs", "remove", source["source"]], cwd=work, env=env, capture_output=True, timeout=600, check=True)
    proc = subprocess.run([PASSAGE, "ask", "Anything?"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert (proc.returncode, proc.stderr) == (2, f"error: nothing is ingested yet; run `passage ingest {ROOT / 'corpus'}` (or your own folder)\n")
