"""Train the reading model from public question-answering files and save a checkpoint.

`python -m training.run --out DIR` is what `passage train-reader` runs first; see
training/README.md for the data, the times on two cores and the figures.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

from .squad import articles, read_qed, read_squad


def sample_groups(squad: Path | None, shifts: Path | None, qed: Path | None, n_squad: int, n_shifts: int, n_qed: int,
                  seed: int, shifts_articles: int = 24):
    """Groups from each source: `n_*` questions drawn at random; of SQuADShifts only the first
    `shifts_articles` articles (the rest are the external check and are never read here)."""
    from .examples import groups

    rng = random.Random(seed)
    out = []
    for path, n, reader in ((squad, n_squad, lambda p: read_squad(p)),
                            (shifts, n_shifts, lambda p: read_squad(p, {a["title"] for a in articles(p)[:shifts_articles]})),
                            (qed, n_qed, read_qed)):
        if path is None or n <= 0:
            continue
        qas = list(reader(path))
        rng.shuffle(qas)
        # the drawn questions' articles lend their other paragraphs as negatives
        chosen = qas[:n]
        articles_needed = {q.paragraph_id.rsplit("/", 1)[0] for q in chosen}
        context = [q for q in qas[n:] if q.paragraph_id.rsplit("/", 1)[0] in articles_needed][: 5 * n]
        out += groups(chosen, rng, others=context)
    rng.shuffle(out)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    data = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
    p.add_argument("--squad", type=Path, default=data / "squad-1.1-train" / "train-v1.1.json.gz")
    p.add_argument("--shifts", type=Path, default=data / "squadshifts-new-wiki" / "new_wiki_v1.0.json.gz")
    p.add_argument("--qed", type=Path, default=data / "qed-nq-train" / "qed-train-v0.filtered.jsonl.gz")
    p.add_argument("--n-squad", type=int, default=5000)
    p.add_argument("--n-shifts", type=int, default=1000)
    p.add_argument("--n-qed", type=int, default=1000)
    p.add_argument("--frozen-layers", type=int, default=0)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=2)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from .cross_encoder import CrossEncoder, train

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gs = sample_groups(a.squad, a.shifts, a.qed, a.n_squad, a.n_shifts, a.n_qed, a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    kinds = {k: sum(g.kind == k for g in gs) for k in ("answerable", "swapped")}
    print(json.dumps({"groups": len(gs), "pairs": sum(len(g.pairs) for g in gs), **kinds}), flush=True)

    def progress(step, total, loss):
        if step % 10 == 0 or step == total:
            print(f"step {step}/{total} loss {loss:.4f}", flush=True)

    model = CrossEncoder.from_minilm(a.frozen_layers)
    train(model, gs, a.out / "checkpoint.pt", lr=a.lr, seed=a.seed, progress=progress)
    import torch as _t

    _t.save(model.state_dict(), a.out / "model.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
