"""Cold start of `passage ask`: every figure from fresh processes, median of several runs.

    .venv/bin/python benchmarks/cold_start.py [--runs 5] [--ref GIT_REF_OR_FOLDER ...]

Phases, each measured apart:
  import torch   wall time of `python -c "import torch"` (the yardstick)
  interpreter    wall time of `python -c "pass"`
  imports        in-process time to import every module a real `passage ask` ends up with
                 (the list is recorded from a real run)
  model load     the embedding model, with all modules already imported
  answer         the rest of the command: open the store, load BM25, retrieve, answer, print
  ask (whole)    the whole real command, from process start to exit

Each figure is wall time and CPU time (user + sys, all threads): on a busy machine the CPU
time is the steadier of the two.

`--ref` (repeatable) also measures another version in the same run, runs interleaved, so all
see the same machine load: a git commit (exported with `git archive` into a temporary
folder) or a folder holding another checkout. Each version gets its own index.
The disk cache is warm (one untimed `ask` per tree first): "cold" means a fresh process.
Settings come from the environment as usual, e.g. PASSAGE_EMBEDDER=onnx.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "How old was Yeonmi Park when she escaped?"
WATCHED = ("torch", "sentence_transformers", "onnxruntime", "chromadb", "sklearn", "pandas", "streamlit",
           "langchain_core", "langchain_openai", "rich.progress", "rag.evaluation")

# A real `passage ask` that writes the names of its imported modules when it exits.
RECORD = """
import atexit, sys
atexit.register(lambda: open({out!r}, "w").write("\\n".join(sys.modules)))
sys.argv = ["passage", *{args!r}]
from {entry} import main
main()
"""

IMPORTS = """
import json, time
names = open({names!r}).read().split()
began, cpu = time.perf_counter(), time.process_time()
for name in names:
    try:
        __import__(name)
    except BaseException:
        pass
print(json.dumps({{"imports": [time.perf_counter() - began, time.process_time() - cpu]}}))
"""

# The real command with its modules imported first; the embedder loader is wrapped to time it.
PHASES = """
import sys, time, json
names = open({names!r}).read().split()
for name in names:
    try:
        __import__(name)
    except BaseException:
        pass
def clock():
    return time.perf_counter(), time.process_time()
loaded = [0.0, 0.0]
def timing(original):
    def timed(*args, **kwargs):
        t = clock()
        try:
            return original(*args, **kwargs)
        finally:
            loaded[:] = [a - b for a, b in zip(clock(), t)]
    return timed
try:  # where this version loads the model: app.wiring now, MiniLMEmbedder.load in early versions
    import app.wiring as wiring
    wiring.load_embedder = timing(wiring.load_embedder)
except ImportError:
    from ingest.embedding import MiniLMEmbedder
    MiniLMEmbedder.load = classmethod(timing(MiniLMEmbedder.load.__func__))
sys.argv = ["passage", *{args!r}]
from {entry} import main
began = clock()
try:
    main()
except SystemExit:
    pass
total = [a - b for a, b in zip(clock(), began)]
print(json.dumps({{"model load": loaded, "answer": [t - m for t, m in zip(total, loaded)]}}), file=sys.stderr)
"""


class Tree:
    """One version of the code: its folder, its entry module and its own index."""

    def __init__(self, label: str, folder: Path, data_dir: Path):
        self.label, self.folder, self.data_dir = label, folder, data_dir
        self.entry = "app.cli" if (folder / "app" / "cli.py").exists() else "passage.cli"
        self.names = data_dir.parent / f"{data_dir.name}-modules.txt"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # users have .pyc caches
        env["PYTHONPATH"] = str(self.folder)
        return env

    def python(self, code: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code], cwd=self.folder, env=self.env(), capture_output=True,
                              text=True, check=check, timeout=900)

    def ask_args(self) -> list[str]:
        return ["ask", QUESTION, "--data-dir", str(self.data_dir)]

    def prepare(self) -> None:
        entry = f"import sys; sys.argv = ['passage', *sys.argv[1:]]; from {self.entry} import main; main()"
        subprocess.run([sys.executable, "-c", entry, "ingest", "corpus", "--data-dir", str(self.data_dir)],
                       cwd=self.folder, env=self.env(), capture_output=True, check=True, timeout=1800)
        self.python(RECORD.format(out=str(self.names), args=self.ask_args(), entry=self.entry))

    def modules(self) -> set[str]:
        return set(self.names.read_text().split())

    def measure(self) -> dict[str, list[float]]:
        """Each phase's [wall, cpu] seconds."""
        figures = {"interpreter": _clock(lambda: self.python("pass"))}
        figures.update(json.loads(self.python(IMPORTS.format(names=str(self.names))).stdout))
        phases = self.python(PHASES.format(names=str(self.names), args=self.ask_args(), entry=self.entry))
        figures.update(json.loads(phases.stderr.strip().splitlines()[-1]))
        figures["ask (whole)"] = _clock(lambda: self.python(RECORD.format(out=os.devnull, args=self.ask_args(), entry=self.entry)))
        return figures


def _clock(run) -> list[float]:
    """[wall, cpu] seconds of the child processes `run` waits for."""
    began, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    run()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [time.perf_counter() - began, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime]


def export(ref: str, folder: Path) -> Path:
    """The files of commit `ref`, without touching the working tree."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ref", action="append", default=[], help="also measure this git commit or folder; repeatable")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        trees = [Tree(ref, Path(ref) if Path(ref).is_dir() else export(ref, tmp_path / f"ref-{i}"), tmp_path / f"data-{i}")
                 for i, ref in enumerate(args.ref)]
        trees.append(Tree("this tree", ROOT, tmp_path / "data-this"))
        for tree in trees:
            tree.prepare()
        torch = []
        runs: dict[str, list[dict[str, list[float]]]] = {t.label: [] for t in trees}
        for _ in range(args.runs):
            torch.append(_clock(lambda: trees[-1].python("import torch")))
            for tree in trees:
                runs[tree.label].append(tree.measure())
        report(trees, torch, runs, args.runs)


def report(trees: list[Tree], torch: list[list[float]], runs: dict[str, list[dict[str, list[float]]]], n: int) -> None:
    print(f"cold start of `passage ask`, median of {n} fresh processes each, seconds wall / cpu (user+sys); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':<28}" + "".join(f"{t.label[-17:]:>18}" for t in trees))
    yardstick = 'python -c "import torch"'
    print(f"{yardstick:<28}" + _cell(torch) * len(trees))
    for phase in ("interpreter", "imports", "model load", "answer", "ask (whole)"):
        print(f"{phase:<28}" + "".join(_cell([r[phase] for r in runs[t.label]]) for t in trees))
    for tree in trees:
        loaded = tree.modules()
        present = [m for m in WATCHED if m in loaded]
        print(f"{tree.label}: {len(loaded)} modules; of {', '.join(WATCHED)}: {', '.join(present) or 'none'}")


def _cell(pairs: list[list[float]]) -> str:
    wall, cpu = (statistics.median(p[i] for p in pairs) for i in (0, 1))
    return f"{wall:>10.2f} /{cpu:>6.2f}"

if __name__ == "__main__":
    main()
