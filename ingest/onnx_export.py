"""ONNX files of the embedding model, built once into the cache and reused.

`open_cached(cache_dir, "onnx-int8", threads)` gives an onnxruntime session for
`<cache_dir>/onnx/all-MiniLM-L6-v2-onnx-int8-<hash>.onnx`, building the file first when it
is missing or unreadable (partial, corrupt, or not this graph). The graph is the whole
sentence-transformers pipeline of this model: BertModel, mean pooling over the attention
mask, L2 normalisation. Inputs `input_ids`, `attention_mask`, `token_type_ids` (int64,
[batch, sequence]); output `embedding` (float32, [batch, 384]), unit length.

- `onnx`: fp32, exported with torch's TorchScript exporter (`dynamo=False`, the simplest
  route for a BERT encoder) with dynamic batch and sequence axes. Building imports torch
  and transformers; opening an existing file imports neither.
- `onnx-int8`: the fp32 file through `onnxruntime.quantization.quantize_dynamic` with int8
  weights, one scale per output channel (one scale per tensor loses ~5x more cosine).

Each file is written under a temporary name and renamed into place, so no reader sees a
partial file and two processes building at once both end with a whole one. The hash in the
name covers the model's files (see `model_files.fingerprint`) and `RECIPE`.
"""
from __future__ import annotations

import hashlib
import logging
import os
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from passage.errors import ConfigError

from . import model_files

VARIANTS = ("onnx", "onnx-int8")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "embedding"
OPSET = 17
RECIPE = "torchscript-opset17-eager-meanpool-l2/int8-dynamic-per-channel/1"
MODEL_STEM = "all-MiniLM-L6-v2"


def onnx_path(cache_dir: Path, variant: str) -> Path:
    """Where `variant` lives in the cache: `onnx/all-MiniLM-L6-v2-onnx-<hash>.onnx`."""
    if variant not in VARIANTS:
        raise ConfigError(f"unknown ONNX variant {variant!r}; choose one of: {', '.join(VARIANTS)}")
    key = hashlib.sha256(f"{model_files.fingerprint(model_files.model_dir())}/{RECIPE}".encode()).hexdigest()[:12]
    return Path(cache_dir) / "onnx" / f"{MODEL_STEM}-{variant}-{key}.onnx"


def open_cached(cache_dir: Path, variant: str, threads: int):
    """An onnxruntime session of `variant`, building the file first if it is missing or unusable."""
    path = onnx_path(cache_dir, variant)
    session = open_session(path, threads)
    if session is None:
        try:
            build(cache_dir, variant)
        except OSError as exc:
            raise ConfigError(f"cannot write the {variant} export to {path.parent}: {exc.strerror or exc}") from None
        session = open_session(path, threads)
        if session is None:
            raise ConfigError(f"the {variant} export at {path} cannot be opened by onnxruntime; use embedder=torch")
    return session


def open_session(path: Path, threads: int):
    """The session of `path`, or None when the file is missing, unreadable or has other inputs/outputs."""
    if not path.is_file():
        return None
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...) with no shared base
        return None
    names = tuple(i.name for i in session.get_inputs()), tuple(o.name for o in session.get_outputs())
    return session if names == (INPUTS, (OUTPUT,)) else None


def build(cache_dir: Path, variant: str) -> Path:
    """Write `variant` into the cache (replacing whatever is there) and return its path."""
    target = onnx_path(cache_dir, variant)
    target.parent.mkdir(parents=True, exist_ok=True)
    if variant == "onnx":
        write_atomically(target, export_fp32)
        return target
    source = onnx_path(cache_dir, "onnx")
    if open_session(source, 1) is None:
        build(cache_dir, "onnx")
    write_atomically(target, lambda tmp: quantize_int8(source, tmp))
    return target


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file beside `target`, then rename it to `target`.

    If `write` fails, `target` is left as it was and the temporary file is removed.
    """
    tmp = target.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{target.name}")
    try:
        write(tmp)
        with open(tmp, "rb") as done:
            os.fsync(done.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def export_fp32(target: Path) -> None:
    """Export BertModel + mean pooling + L2 normalisation from the installed model folder."""
    folder = model_files.model_dir()
    model_files.check_pipeline(folder)
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ConfigError(f"exporting the ONNX model needs {exc.name}; run `pip install sentence-transformers`") from None

    class Pipeline(torch.nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    transformers_logging.disable_progress_bar()
    # eager attention traces to plain MatMul/Softmax with no data-dependent shortcuts
    bert = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager")
    # a padded second row, so the traced graph applies the attention mask
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    example = (ids, (ids != 0).long(), torch.zeros_like(ids))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {OUTPUT: {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's deprecation notice and tracer notes
        torch.onnx.export(Pipeline(bert).eval(), example, str(target), dynamo=False, input_names=list(INPUTS),
                          output_names=[OUTPUT], dynamic_axes=axes, opset_version=OPSET)


def quantize_int8(source: Path, target: Path) -> None:
    """Int8 weights, one scale per output channel; activations quantised at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_preprocess_hint():
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


@contextmanager
def _without_preprocess_hint():
    """quantize_dynamic advises pre-processing through `logging.warning`, which would also set up
    the root logger; the advice does not apply (the same vectors, measured), so it is dropped."""
    root = logging.getLogger()
    handler = logging.NullHandler()

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")

    root.addHandler(handler)
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        root.removeHandler(handler)
