"""all-MiniLM-L6-v2 through onnxruntime: the same vectors as the sentence-transformers
embedder (fp32: within 1e-6 cosine; int8: within about 0.01) without torch on the query path.

Tokenising uses the model folder's `tokenizer.json` with the `tokenizers` package, as the
torch embedder's fast tokenizer does: inputs cut at 256 word pieces counting [CLS] and
[SEP]; counting and truncating see the whole text. The file's own padding and truncation
(fixed 128) are switched off, since sentence-transformers overrides them on every call.
Texts are embedded in batches of similar token length to keep padding small.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from . import model_files, onnx_export
from .embedding import MAX_TOKENS, MODEL_NAME


class OnnxEmbedder:
    """Usage: `OnnxEmbedder.load(settings.cache_dir, "onnx-int8").embed(["a question"])`."""

    name = MODEL_NAME
    max_tokens = MAX_TOKENS

    def __init__(self, session, counter, encoder, variant: str, batch_size: int = 32):
        self._session = session
        self._counter = counter
        self._encoder = encoder
        self.variant = variant
        self._batch_size = batch_size

    @classmethod
    def load(cls, cache_dir: Path, variant: str = "onnx", batch_size: int = 32) -> "OnnxEmbedder":
        """Open `variant` from `cache_dir`, exporting it there first if it is not yet built."""
        from tokenizers import Tokenizer

        folder = model_files.model_dir()
        session = onnx_export.open_cached(cache_dir, variant, physical_cores())
        counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        counter.no_padding()
        counter.no_truncation()
        encoder = Tokenizer.from_file(str(folder / "tokenizer.json"))
        encoder.no_padding()
        encoder.enable_truncation(max_length=model_files.max_seq_length(folder), strategy="longest_first")
        return cls(session, counter, encoder, variant, batch_size)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        encodings = self._encoder.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(encodings), self._session.get_outputs()[0].shape[1]), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            vectors[batch] = self._run([encodings[i] for i in batch])
        return vectors.tolist()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def truncate(self, text: str, tokens: int) -> str:
        """The longest prefix of `text` that holds at most `tokens` word pieces."""
        offsets = self._counter.encode(text, add_special_tokens=False).offsets
        return text if len(offsets) <= tokens else text[: offsets[tokens - 1][1]]

    def _run(self, encodings) -> np.ndarray:
        """Unit vectors of one batch, padded to its longest member."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
            types[row, : len(e.ids)] = e.type_ids
        feeds = dict(zip(onnx_export.INPUTS, (ids, mask, types)))
        return self._session.run([onnx_export.OUTPUT], feeds)[0]


def physical_cores() -> int:
    """Cores this process may run on, hyper-threads of one core counted once: 2 on this machine."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(), (topology / "core_id").read_text().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, len(cores))
