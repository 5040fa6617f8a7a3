"""The trained reading model at run time: MiniLM read as a cross-encoder, through onnxruntime.

`CrossEncoderScorer().score("How old was she?", candidates)` gives each candidate sentence
the probability that it states the answer, reading the question and the sentence in its
context (heading and the sentence before: `pairs.pair_text`) together. The model files live
in `rag/reader/model/`: `reader.json` (format, version, the ONNX file's name and sha256, the
word-piece limit, the calibration) and the ONNX file it names. A missing file, a file whose
hash is not the stamped one, or a stamp of another format is a ConfigError that says what to
do; nothing is downloaded and torch is never imported.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from passage.errors import ConfigError

from .candidates import Candidate
from .pairs import MAX_TOKENS, pair_text

FORMAT = 1
STAMP = "reader.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "logit"
REMEDY = "reinstall passage or retrain with `passage train-reader`"


def model_folder() -> Path:
    """Where the shipped model lives: `rag/reader/model/`."""
    return Path(__file__).resolve().with_name("model")


@dataclass(frozen=True)
class ModelStamp:
    """What `reader.json` says of the model beside it."""

    version: str
    onnx: str
    sha256: str
    max_tokens: int = MAX_TOKENS
    calibration: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    trained_on: str = ""


def read_stamp(folder: Path | None = None) -> ModelStamp:
    """The stamp in `folder` (default: the shipped model); ConfigError when missing or stale."""
    path = (folder or model_folder()) / STAMP
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the reading model is missing: no {path}; {REMEDY}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the reading model's stamp {path}: {exc}; {REMEDY}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else "?"
        raise ConfigError(f"{path}: reading model format {found!r}, this version reads format {FORMAT}; {REMEDY}")
    try:
        return ModelStamp(str(data["version"]), str(data["onnx"]), str(data["sha256"]), int(data.get("max_tokens", MAX_TOKENS)),
                          dict(data.get("calibration") or {}), dict(data.get("figures") or {}), str(data.get("trained_on", "")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: the reading model's stamp lacks or garbles {exc}; {REMEDY}") from None


def write_stamp(stamp: ModelStamp, folder: Path) -> None:
    data = {"format": FORMAT, "version": stamp.version, "onnx": stamp.onnx, "sha256": stamp.sha256,
            "max_tokens": stamp.max_tokens, "trained_on": stamp.trained_on, "calibration": stamp.calibration,
            "figures": stamp.figures}
    tmp = folder / f".{STAMP}.tmp"
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(folder / STAMP)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class CrossEncoderScorer:
    """Usage: `CrossEncoderScorer().score(question, candidates)` -> probabilities, one per candidate.

    The ONNX session and tokenizer load on first use (one lock: onnxruntime sessions may run
    concurrently, loading may not)."""

    name = "cross-encoder"

    def __init__(self, folder: Path | None = None, threads: int = 0, batch: int = 32):
        self.folder = folder or model_folder()
        self.stamp = read_stamp(self.folder)
        self.threads = threads
        self.batch = batch
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        texts = [pair_text(c.text, c.heading, c.previous) for c in candidates]
        return _sigmoid(self.logits(question, texts))

    def logits(self, question: str, texts: Sequence[str]) -> np.ndarray:
        """The model's logit for `question` against each second segment in `texts`."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        session, tok = self._load()
        out = []
        for i in range(0, len(texts), self.batch):
            feeds = _encode(tok, [(question, t) for t in texts[i : i + self.batch]])
            out.append(session.run([OUTPUT], feeds)[0].reshape(-1))
        return np.concatenate(out).astype(np.float32)

    def _load(self):
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = _open(self.folder, self.stamp, self.threads)
            return self._session, self._tokenizer


def _open(folder: Path, stamp: ModelStamp, threads: int):
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from ingest.model_files import model_dir

    path = folder / stamp.onnx
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise ConfigError(f"the reading model is missing: no {path}; {REMEDY}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the reading model {path}: {exc.strerror or exc}; {REMEDY}") from None
    if digest != stamp.sha256:
        raise ConfigError(f"{path} is not the model {STAMP} stamps (version {stamp.version}: sha256 {stamp.sha256[:12]}…, "
                          f"the file's {digest[:12]}…); {REMEDY}")
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for a corrupt graph
        raise ConfigError(f"cannot load the reading model {path}: {str(exc).splitlines()[0]}; {REMEDY}") from None
    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.enable_truncation(stamp.max_tokens, strategy="longest_first")
    tok.no_padding()
    return session, tok


def _encode(tok, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    encs = tok.encode_batch(list(pairs))
    width = max(len(e.ids) for e in encs)
    feeds = {k: np.zeros((len(encs), width), dtype=np.int64) for k in INPUTS}
    for i, e in enumerate(encs):
        n = len(e.ids)
        feeds["input_ids"][i, :n] = e.ids
        feeds["attention_mask"][i, :n] = e.attention_mask
        feeds["token_type_ids"][i, :n] = e.type_ids
    return feeds
