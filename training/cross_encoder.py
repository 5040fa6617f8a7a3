"""The reading model in torch: MiniLM read as a cross-encoder, trained on groups of pairs.

`CrossEncoder.from_minilm()` starts from the shipped all-MiniLM-L6-v2 weights with a fresh
one-logit head over the mean of the last layer's token vectors (the pooling the encoder was
trained with). The word embeddings and the lowest `frozen_layers` stay frozen: on two cores
that makes a step about twice as fast, and what the encoder knows about words is kept.
`train(model, groups, ...)` fits it with binary cross-entropy per pair plus a listwise term
(the answer against its group's other sentences: `loss_of`), saving a checkpoint
every `checkpoint_every` steps so a stopped run resumes where it stopped.
"""
from __future__ import annotations

import logging
import random
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from tokenizers import Tokenizer

from ingest.model_files import model_dir
from rag.reader.pairs import MAX_TOKENS

from .examples import Group

log = logging.getLogger(__name__)


def tokenizer(max_tokens: int = MAX_TOKENS) -> Tokenizer:
    """The encoder's own word-piece tokenizer, cutting pairs to `max_tokens` (the longer segment first)."""
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(max_tokens, strategy="longest_first")
    tok.no_padding()
    return tok


def encode(tok: Tokenizer, pairs: Sequence[tuple[str, str]]) -> dict[str, torch.Tensor]:
    """Padded int64 tensors for (question, text) pairs."""
    encs = tok.encode_batch(list(pairs))
    width = max(len(e.ids) for e in encs)
    ids = np.zeros((len(encs), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for i, e in enumerate(encs):
        n = len(e.ids)
        ids[i, :n], mask[i, :n], types[i, :n] = e.ids, e.attention_mask, e.type_ids
    return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
            "token_type_ids": torch.from_numpy(types)}


class CrossEncoder(torch.nn.Module):
    """MiniLM, mean pooling, one logit: `model(**encode(tok, [(q, s)]))` -> tensor([logit])."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert
        self.head = torch.nn.Linear(bert.config.hidden_size, 1)

    @classmethod
    def from_minilm(cls, frozen_layers: int = 2) -> "CrossEncoder":
        from transformers import BertModel

        bert = BertModel.from_pretrained(str(model_dir()), add_pooling_layer=False)
        model = cls(bert)
        for p in bert.embeddings.parameters():
            p.requires_grad = False
        for layer in bert.encoder.layer[:frozen_layers]:
            for p in layer.parameters():
                p.requires_grad = False
        return model

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled).squeeze(-1)


def batches(groups: Sequence[Group], pairs_per_batch: int, rng: random.Random) -> list[list[Group]]:
    """Groups shuffled and packed whole into batches of about `pairs_per_batch` pairs."""
    order = list(groups)
    rng.shuffle(order)
    out, current, size = [], [], 0
    for g in order:
        current.append(g)
        size += len(g.pairs)
        if size >= pairs_per_batch:
            out.append(current)
            current, size = [], 0
    if current:
        out.append(current)
    return out


def loss_of(logits: torch.Tensor, batch: Sequence[Group]) -> torch.Tensor:
    """Binary cross-entropy per pair, plus, for each group with an answer, the cross-entropy of
    picking it among the group's sentences (what the reader does with them)."""
    labels = torch.tensor([float(p.label) for g in batch for p in g.pairs])
    pointwise = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
    listwise, at, n = logits.new_zeros(()), 0, 0
    for g in batch:
        k = len(g.pairs)
        gold = [i for i, p in enumerate(g.pairs) if p.label]
        if gold and k > 1:
            listwise = listwise - torch.log_softmax(logits[at : at + k], dim=0)[gold[0]]
            n += 1
        at += k
    return pointwise + (listwise / n if n else 0.0)


def train(model: CrossEncoder, groups: Sequence[Group], checkpoint: Path, epochs: int = 1, pairs_per_batch: int = 32,
          lr: float = 5e-5, seed: int = 0, checkpoint_every: int = 50, max_tokens: int = MAX_TOKENS,
          progress: Callable[[int, int, float], None] | None = None) -> CrossEncoder:
    """Fit `model` on `groups`; resumes from `checkpoint` when it holds a run of the same plan."""
    tok = tokenizer(max_tokens)
    rng = random.Random(seed)
    plan = [b for _ in range(epochs) for b in batches(groups, pairs_per_batch, rng)]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(1, len(plan) // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (len(plan) - s) / max(1, len(plan) - warmup)))
    key = _fingerprint(plan, lr, seed)
    step = _resume(model, optimizer, schedule, checkpoint, len(plan), key)
    model.train()
    started, running = time.monotonic(), []
    for i in range(step, len(plan)):
        batch = plan[i]
        inputs = encode(tok, [(p.question, p.text) for g in batch for p in g.pairs])
        loss = loss_of(model(**inputs), batch)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        running = (running + [float(loss.detach())])[-50:]
        if progress:
            progress(i + 1, len(plan), float(np.mean(running)))
        if (i + 1) % checkpoint_every == 0 or i + 1 == len(plan):
            _save(model, optimizer, schedule, checkpoint, i + 1, len(plan), key)
    log.info("trained %d steps in %.0fs", len(plan) - step, time.monotonic() - started)
    model.eval()
    return model


def _fingerprint(plan: Sequence[Sequence[Group]], lr: float, seed: int) -> str:
    """What a checkpoint must match to be resumed: the batches' questions, the rate, the seed."""
    import hashlib

    text = "\n".join(g.question for batch in plan for g in batch)
    return hashlib.sha256(f"{text}\n{lr}\n{seed}".encode()).hexdigest()[:16]


def _save(model, optimizer, schedule, checkpoint: Path, step: int, total: int, key: str) -> None:
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    tmp = checkpoint.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "step": step, "total": total, "key": key}, tmp)
    tmp.replace(checkpoint)


def _resume(model, optimizer, schedule, checkpoint: Path, total: int, key: str) -> int:
    if not checkpoint.exists():
        return 0
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    if state.get("key") != key:
        log.warning("checkpoint %s is of another training plan; starting afresh", checkpoint)
        return 0
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    schedule.load_state_dict(state["schedule"])
    log.info("resuming at step %d of %d", state["step"], total)
    return int(state["step"])


def predict(model: CrossEncoder, pairs: Sequence[tuple[str, str]], batch: int = 64, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """Logits for (question, text) pairs."""
    tok = tokenizer(max_tokens)
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(pairs), batch):
            out.append(model(**encode(tok, pairs[i : i + batch])).numpy())
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)
