"""Write a trained cross-encoder as the ONNX files the runtime reads.

`export(model, folder)` writes `reader.onnx` (fp32, TorchScript exporter, dynamic batch and
sequence axes; inputs input_ids, attention_mask, token_type_ids as int64; output `logit`,
float32 [batch]) and, with `int8`, `reader-int8.onnx` (dynamic int8 weights, one scale per
output channel). Files are written under a temporary name and renamed into place.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import torch

from rag.reader.cross_encoder import INPUTS, OUTPUT

from .cross_encoder import CrossEncoder, encode, tokenizer

OPSET = 17


def export(model: CrossEncoder, folder: Path, name: str = "reader.onnx") -> Path:
    """The fp32 ONNX file of `model` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    sample = encode(tokenizer(), [("How old was she?", "She escaped at 13. [SEP] Leaving North Korea")] * 2)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, tuple(sample[k] for k in INPUTS), str(tmp), input_names=list(INPUTS),
                          output_names=[OUTPUT], opset_version=OPSET, dynamo=False,
                          dynamic_axes={**{k: {0: "batch", 1: "sequence"} for k in INPUTS}, OUTPUT: {0: "batch"}})
    tmp.replace(target)
    return target


def quantize(source: Path, name: str = "reader-int8.onnx") -> Path:
    """`source` with int8 weights (one scale per output channel), beside it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = source.with_name(name)
    tmp = source.with_name(f".{name}.{os.getpid()}.tmp")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    tmp.replace(target)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
