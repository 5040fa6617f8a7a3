"""`passage train-reader` behind the CLI: needs the `train` extra (torch, transformers, scikit-learn).

Trains the reading model on public question-answering files, exports it to ONNX, calibrates
it on a split of the test set read through this data dir's index, and writes the model folder
(by default the one shipped in rag/reader/model/). Prints one line per stage.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from passage.errors import ConfigError
from passage.settings import Settings, load_settings

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (PASSAGE_DATA_DIR).")]
ChromaUrl = Annotated[Optional[str], typer.Option("--chroma-url", help="Chroma server URL (PASSAGE_CHROMA_URL).")]


def train_reader(testset: Path, split: str, out: Path | None, work: Path, plan_args: dict, settings: Settings) -> None:
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise ConfigError(f"training the reader needs {exc.name}; run `pip install -e '.[train]'` "
                          "(CPU torch first: `pip install torch==2.13.0`)") from None
    from app.wiring import build_assistant
    from rag.evaluation import load_testset
    from rag.reader.cross_encoder import model_folder
    from training.pipeline import Plan, package, train_model

    for name in ("squad", "shifts", "qed"):
        path = plan_args.get(name)
        if path is not None and not Path(path).is_file():
            raise ConfigError(f"no {name} file at {path}; pass --{name} PATH, or --n-{name} 0 to train without it")
    plan = Plan(**plan_args)
    items = load_testset(testset, split)
    assistant = build_assistant(settings)

    def say(line: str) -> None:
        print(line, flush=True)

    model = train_model(plan, work, say)
    target = out or model_folder()
    figures = package(model, plan, assistant, items, target, work, f"{testset} split={split}", say)
    f = figures
    say(f"calibrated on {f['items']} items ({f['answerable']} answerable), out of fold: lead sentence right "
        f"{_fig(f['lead_right'])}, evidence quoted {_fig(f['evidence_quoted'])}, abstention recall "
        f"{_fig(f['abstention_recall'])} at false abstention {_fig(f['false_abstention'])}; wrote {target}")


def _fig(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def train_reader_command(
    testset: Annotated[Path, typer.Argument(help="JSONL test set with dev/test splits.")] = Path("corpus/testset.jsonl"),
    split: Annotated[str, typer.Option("--split", help="The split to calibrate on (never report on it).")] = "dev",
    out: Annotated[Optional[Path], typer.Option("--out", help="Model folder to write (default: the one shipped in rag/reader/model/).")] = None,
    work: Annotated[Path, typer.Option("--work", help="Folder for the training checkpoint; a stopped run resumes from it.")] = Path("runs/train-reader"),
    squad: Annotated[Optional[Path], typer.Option("--squad", help="SQuAD-format training file (.json or .json.gz).")] = None,
    shifts: Annotated[Optional[Path], typer.Option("--shifts", help="SQuADShifts new_wiki file; only its first --shifts-articles articles are read.")] = None,
    qed: Annotated[Optional[Path], typer.Option("--qed", help="QED over Natural Questions (.jsonl or .jsonl.gz).")] = None,
    n_squad: Annotated[int, typer.Option("--n-squad", min=0, help="Questions drawn from --squad.")] = 5000,
    n_shifts: Annotated[int, typer.Option("--n-shifts", min=0, help="Questions drawn from --shifts.")] = 1000,
    n_qed: Annotated[int, typer.Option("--n-qed", min=0, help="Questions drawn from --qed.")] = 1000,
    frozen_layers: Annotated[int, typer.Option("--frozen-layers", min=0, max=6, help="Lowest encoder layers kept as shipped (the word embeddings always are).")] = 0,
    keep: Annotated[int, typer.Option("--keep", min=1, max=200, help="Candidates the reading model reads per question.")] = 12,
    adapt_epochs: Annotated[int, typer.Option("--adapt-epochs", min=0, max=10, help="Epochs of adapting to the split's own questions (0: none).")] = 2,
    fp32: Annotated[bool, typer.Option("--fp32", help="Ship the fp32 ONNX file instead of the int8 one.")] = False,
    max_false_abstention: Annotated[float, typer.Option("--max-false-abstention", min=0.0, max=0.5, help="Largest share of answerable questions the calibrated threshold may abstain on.")] = 0.05,
    data_dir: DataDir = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Train the reading model on public QA data, export it to ONNX and calibrate it on a split (train extra)."""
    data = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
    defaults = {"squad": data / "squad-1.1-train" / "train-v1.1.json.gz",
                "shifts": data / "squadshifts-new-wiki" / "new_wiki_v1.0.json.gz",
                "qed": data / "qed-nq-train" / "qed-train-v0.filtered.jsonl.gz"}
    given = {"squad": squad, "shifts": shifts, "qed": qed}
    counts = {"squad": n_squad, "shifts": n_shifts, "qed": n_qed}
    paths = {k: (given[k] or defaults[k]) if counts[k] else None for k in given}
    plan = {**paths, "n_squad": n_squad, "n_shifts": n_shifts, "n_qed": n_qed, "frozen_layers": frozen_layers,
            "keep": keep, "int8": not fp32, "adapt_epochs": adapt_epochs, "max_false_abstention": max_false_abstention}
    settings = load_settings(data_dir=data_dir, chroma_url=chroma_url)
    train_reader(testset, split, out, work, plan, settings)
