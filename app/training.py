"""The reader's training commands behind the CLI: `train-reader` and `tune-rescore`.

Each reads a split of a test set the way the assistant answers it, fits or tunes, writes the
file beside the code (or `out_file`) and prints one summary line. `progress(label)` gives a
rich Progress (the CLI's bar, or none when stderr is not a terminal).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from passage.settings import Settings


def _read(assistant, items, progress: Callable):
    from rag.reader.training import collect

    with progress("reading") as bar:
        task = bar.add_task("read", total=len(items))
        return collect(assistant, items, lambda done, total: bar.update(task, completed=done, total=total))


def train_reader(testset: Path, split: str, out_file: Path | None, max_false_abstention: float, by_document: bool,
                 settings: Settings, progress: Callable) -> None:
    from app.train_render import by_document_lines, training_line
    from app.wiring import build_assistant
    from rag.evaluation import load_testset
    from rag.reader.model import save_weights, weights_path
    from rag.reader.training import train, utc_stamp

    items = load_testset(testset, split)
    reader, examples = _read(build_assistant(settings), items, progress)
    weights = train(reader, examples, version=utc_stamp(), trained_on=f"{testset} split={split}",
                    max_false_abstention=max_false_abstention, by_document=by_document)
    target = out_file or weights_path()
    save_weights(weights, target)
    for line in by_document_lines(weights.figures["by_document"]) if by_document else []:
        print(line)
    print(training_line(weights, target))


def tune_rescore(testset: Path, split: str, out_file: Path | None, settings: Settings, progress: Callable) -> None:
    from app.train_render import rescoring_line
    from app.wiring import build_assistant
    from rag.evaluation import load_testset
    from rag.reader.likelihood import load_likelihood
    from rag.reader.rescoring import rescoring_path, save_rescoring, tune
    from rag.reader.training import out_of_fold_probabilities, utc_stamp

    items = load_testset(testset, split)
    likelihood = load_likelihood("on", settings.reader_rescore_model)
    _, examples = _read(build_assistant(settings.model_copy(update={"reader_rescore": "off"})), items, progress)
    probs = out_of_fold_probabilities(examples)
    with progress("asking the model") as bar:
        task = bar.add_task("ask", total=None)
        rule = tune(examples, probs, likelihood, utc_stamp(), f"{testset} split={split}",
                    lambda done, total: bar.update(task, completed=done, total=total))
    target = out_file or rescoring_path()
    save_rescoring(rule, target)
    print(rescoring_line(rule, target))
