"""`passage ask` starts light: a real `ask` process, run as the console script runs it, never
imports the web page, the LLM backends, the evaluation, the loaders or scientific Python it
does not use; the CLI's own modules import no progress bars, no LangChain and no model."""
import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

# The console script's entry, with the names of the imported modules written on exit.
ASK = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["passage", *sys.argv[1:]]
from app.cli import main
main()
"""
NEVER = ("streamlit", "langchain_openai", "langchain_ollama", "langchain_community", "llama_cpp", "rag.evaluation",
         "rag.llm", "ingest.loaders", "ingest.pipeline", "pypdf", "docx", "bs4")
# What the sentence-transformers package imports itself; absent when the embedder does not use it.
WITH_SENTENCE_TRANSFORMERS = ("sklearn", "pandas")


def test_the_cli_modules_import_no_progress_bars_langchain_or_model():
    code = "import json, sys, app.cli, app.wiring, app.render; print(json.dumps(sorted(sys.modules)))"
    modules = set(json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout))
    assert "app.wiring" in modules
    # rich.progress still comes with chromadb (httpx imports it), but only once a store is opened
    assert _loaded(modules, ("rich.progress", "langchain_core", "chromadb", "torch", "bm25s", *NEVER)) == []


def _ask_modules(data_dir, *args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", ASK, "ask", "How old was Yeonmi Park when she escaped?", "--json",
                           "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["abstained"] is False
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def _loaded(modules: set[str], names) -> list[str]:
    return [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]


def test_ask_imports_only_what_answering_needs(ingested_dir):
    modules = _ask_modules(ingested_dir)
    assert _loaded(modules, NEVER) == []
    if "sentence_transformers" not in modules:
        assert _loaded(modules, WITH_SENTENCE_TRANSFORMERS) == []
    assert {"chromadb", "bm25s", "rag.extractive"} <= modules  # the modules it does need: the check sees them

