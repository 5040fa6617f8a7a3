"""`passage train-reader`: public data -> reading model -> ONNX -> calibrated on the dev split.

1. Train the cross-encoder on groups built from SQuAD-format files and QED (examples.py),
   checkpointed in `work` so a stopped run resumes (cross_encoder.py).
2. Export it to ONNX and, unless `fp32`, quantise it to int8 (export.py).
3. Read the test set's `split` through retrieval and fit the first-stage sentence model on
   it (first_stage.py); adapt the reading model on two thirds of its items (adapt.py) and
   calibrate on the other third: the final sentence score, answerability, confidence, the
   threshold and the answer shape (calibrate.py).
4. Write the model folder: the ONNX file, `reader.json` (version, sha256, calibration,
   figures, the data it was trained on) and the first stage's `weights.json`.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ATTRIBUTION = ("Trained on SQuAD 1.1 train (CC BY-SA 4.0, Rajpurkar et al. 2016), the first 24 articles of SQuADShifts "
               "new_wiki (CC BY 4.0, Miller et al. 2020) and QED over Natural Questions (CC BY-SA 3.0, Lamm et al. 2021; "
               "Kwiatkowski et al. 2019), starting from all-MiniLM-L6-v2 (Apache-2.0).")


@dataclass(frozen=True)
class Plan:
    """What to train on and how; the defaults are the shipped model's."""

    squad: Path | None
    shifts: Path | None
    qed: Path | None
    n_squad: int = 5000
    n_shifts: int = 1000
    n_qed: int = 1000
    shifts_articles: int = 24
    frozen_layers: int = 0
    lr: float = 5e-5
    seed: int = 2
    threads: int = 2
    keep: int = 12
    int8: bool = True
    max_false_abstention: float = 0.05
    adapt_epochs: int = 2
    adapt_lr: float = 3e-5


def train_model(plan: Plan, work: Path, say: Callable[[str], None]):
    """The trained torch model (resuming from `work/checkpoint.pt` when it holds this plan)."""
    import torch

    from .cross_encoder import CrossEncoder, train
    from .run import sample_groups

    torch.set_num_threads(plan.threads)
    torch.manual_seed(plan.seed)
    groups = sample_groups(plan.squad, plan.shifts, plan.qed, plan.n_squad, plan.n_shifts, plan.n_qed, plan.seed,
                           plan.shifts_articles)
    say(f"training on {len(groups)} questions ({sum(len(g.pairs) for g in groups)} pairs, "
        f"{sum(g.kind == 'swapped' for g in groups)} made unanswerable)")
    model = CrossEncoder.from_minilm(plan.frozen_layers)
    work.mkdir(parents=True, exist_ok=True)

    def progress(step, total, loss):
        if step % 50 == 0 or step == total:
            say(f"step {step}/{total}, loss {loss:.4f}")

    return train(model, groups, work / "checkpoint.pt", lr=plan.lr, seed=plan.seed, progress=progress)


def split_for_calibration(examples, every: int = 3):
    """Examples to adapt on and examples to calibrate on: every `every`-th item (in file order,
    so each document and kind of question is in both) is kept for calibration."""
    adapt = [e for i, e in enumerate(examples) if i % every]
    held = [e for i, e in enumerate(examples) if not i % every]
    return adapt, held


def package(model, plan: Plan, assistant, items, target: Path, work: Path, trained_on: str,
            say: Callable[[str], None]) -> dict:
    """Adapt, export, calibrate on `items` and write the model folder `target`; the figures.

    With adaptation, the model before it is calibrated on the same held-out items too, and the
    one whose answers lead with the evidence more often there is shipped (ties: the adapted)."""
    from rag.reader.model import save_weights

    from .adapt import groups_from
    from .cross_encoder import train
    from .first_stage import train as fit_first_stage
    from .labels import collect

    say(f"reading {len(items)} labelled questions through retrieval")
    parts, examples = collect(assistant, items)
    adapt, held = split_for_calibration(examples)
    version = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = fit_first_stage(parts, adapt, version, trained_on, plan.max_false_abstention)
    sentence = first.sentence
    recall = recall_at(held, sentence, plan.keep)
    say(f"first stage fitted on {len(adapt)} items; on the other {len(held)} the evidence is among its best {plan.keep} "
        f"for {recall:.3f} of answerable questions that have it among the candidates")
    common = {"first_stage_recall_at_keep": round(recall, 4)}
    staging = _calibrated(model, plan, parts, first, held, target.with_name(f".{target.name}.staging"), version, trained_on, say)
    if plan.adapt_epochs:
        before = _figures(staging)
        groups = groups_from(adapt, sentence, plan.keep)
        say(f"adapting on {len(groups)} of them ({len(held)} kept for calibration)")
        model = train(model, groups, work / "adapt.pt", epochs=plan.adapt_epochs, lr=plan.adapt_lr, seed=plan.seed)
        adapted = _calibrated(model, plan, parts, first, held, target.with_name(f".{target.name}.adapted"), version, trained_on,
                              say)
        after = _figures(adapted)
        say(f"on the {len(held)} held-out items the lead is right for {before['lead_right']} before adapting, "
            f"{after['lead_right']} after")
        keep_adapted = (after["lead_right"] or 0) >= (before["lead_right"] or 0)
        common.update({"adapted_on": len(adapt), "shipped": "adapted" if keep_adapted else "not adapted",
                       "before_adapting": {k: before[k] for k in ("lead_right", "evidence_quoted", "abstention_recall",
                                                                  "false_abstention")}})
        if keep_adapted:
            staging, adapted = adapted, staging
        shutil.rmtree(adapted, ignore_errors=True)
    from rag.reader.cross_encoder import read_stamp, write_stamp

    stamp = read_stamp(staging)
    write_stamp(stamp.__class__(**{**stamp.__dict__, "figures": {**common, **stamp.figures}}), staging)
    save_weights(first, staging / "weights.json")
    (staging / "ATTRIBUTION.txt").write_text(ATTRIBUTION + "\n", encoding="utf-8")
    _replace(staging, target)
    return {**common, **_figures(target)}


def _figures(folder: Path) -> dict:
    from rag.reader.cross_encoder import read_stamp

    return read_stamp(folder).figures


def recall_at(examples, sentence, keep: int) -> float:
    """Share of answerable examples with evidence among their candidates whose evidence is among
    the sentence model's best `keep`."""
    import numpy as np

    rows = [e for e in examples if e.answerable and len(e.inputs.candidates) and e.labels.any()]
    hits = [bool(e.labels[np.argsort(-sentence.predict(e.inputs.features), kind="stable")[:keep]].any()) for e in rows]
    return float(np.mean(hits)) if hits else 0.0


def _calibrated(model, plan: Plan, parts, first, held, folder: Path, version: str, trained_on: str,
                say: Callable[[str], None]) -> Path:
    """`model` exported into `folder` (int8 unless fp32) with the calibration fitted on `held`."""
    from rag.reader.cross_encoder import CrossEncoderScorer, ModelStamp, write_stamp
    from rag.reader.reader import Reader

    from .calibrate import calibrate, read_all
    from .export import export, quantize, sha256

    shutil.rmtree(folder, ignore_errors=True)
    onnx = export(model, folder)
    if plan.int8:
        int8 = quantize(onnx)
        onnx.unlink()
        onnx = int8
    write_stamp(ModelStamp(version, onnx.name, sha256(onnx), trained_on=trained_on), folder)
    say(f"exported {onnx.name} ({onnx.stat().st_size / 1e6:.1f} MB); calibrating on {len(held)} questions")
    reader = Reader(parts.vectors, parts.tokenize, parts.idf, first, CrossEncoderScorer(folder, plan.threads))
    calibration, figures = calibrate(reader, read_all(reader, held, plan.keep), plan.keep, plan.max_false_abstention)
    write_stamp(ModelStamp(version, onnx.name, sha256(onnx), calibration=calibration.to_json(), figures=figures,
                           trained_on=trained_on), folder)
    return folder


def _replace(staging: Path, target: Path) -> None:
    """Put `staging` in `target`'s place; a reader never sees a half-written folder's files mixed."""
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def plan_json(plan: Plan) -> str:
    return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in plan.__dict__.items()})
