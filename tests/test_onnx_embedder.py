"""The ONNX embedders against the sentence-transformers one: same vectors within a stated
tolerance, the same token counts and truncation, an export built once and rebuilt when
damaged, no torch when answering, and the setting that picks one."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.embedders import load_embedder
from ingest.onnx_embedding import OnnxEmbedder
from ingest.onnx_export import onnx_path, open_session, write_atomically
from passage.errors import ConfigError
from passage.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent

# 1 - cos(torch vector, onnx vector), per text. Measured on these 76 texts: fp32 at most
# 5e-7 (float rounding); int8 at most 0.026 (texts of one or no word piece; 0.019 over the
# paragraphs), 0.008 on average, on one CPU, and at most 0.036, 0.0097 on average, on an AMD
# EPYC (int8 kernels differ between processors). A broken quantisation is an order
# of magnitude off (one scale per tensor instead of per channel: 0.56 at most, 0.16 on average).
FP32_MAX = 1e-4
INT8_MAX = 0.05
INT8_MEAN = 0.012

EDGE_CASES = [
    "",
    "   \n\t ",
    "How old was Yeonmi Park when she escaped?",
    "  leading and trailing whitespace  \n",
    "Café naïve résumé: “quoted”, ‘single’ — en–dash … ellipsis",
    "탈북자 북한 조선민주주의인민공화국 北朝鮮 平壤 🙂👍🏽 \x00\x07 control",
    "UNHCR/ICCPR-Art.12(2) 1,000,000 3.14e-10 https://example.org/a?b=c#d",
    "antidisestablishmentarianism " * 30,
    "x" * 2000,
    "word " * 400,
]


def corpus_texts() -> list[str]:
    """Every paragraph of two bundled documents (one over 256 word pieces) and the edge cases."""
    texts = []
    for name in ("leaving-north-korea.txt", "un-coi-dprk-statement-2014.md"):
        texts += [p.strip() for p in (ROOT / "corpus" / name).read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return texts + EDGE_CASES


@pytest.fixture(scope="session")
def onnx_data_dir(tmp_path_factory) -> Path:
    """A data dir whose cache holds both ONNX variants, built once."""
    data_dir = tmp_path_factory.mktemp("onnx-data")
    for variant in ("onnx", "onnx-int8"):
        OnnxEmbedder.load(Settings(data_dir=data_dir).cache_dir, variant)
    return data_dir


@pytest.fixture(scope="session")
def torch_vectors(embedder) -> np.ndarray:
    return np.array(embedder.embed(corpus_texts()))


def cosine_gap(vectors: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return 1 - np.sum(vectors * reference, axis=1)


def cache_files(data_dir: Path) -> dict[str, int]:
    folder = Settings(data_dir=data_dir).cache_dir / "onnx"
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_fp32_vectors_equal_torch(onnx_data_dir, torch_vectors):
    onnx = OnnxEmbedder.load(Settings(data_dir=onnx_data_dir).cache_dir, "onnx", batch_size=7)
    vectors = np.array(onnx.embed(corpus_texts()))
    assert vectors.shape == torch_vectors.shape == (len(corpus_texts()), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.max(np.abs(cosine_gap(vectors, torch_vectors))) < FP32_MAX


@pytest.mark.slow
def test_int8_vectors_are_close_to_torch(onnx_data_dir, torch_vectors):
    int8 = OnnxEmbedder.load(Settings(data_dir=onnx_data_dir).cache_dir, "onnx-int8")
    gap = cosine_gap(np.array(int8.embed(corpus_texts())), torch_vectors)
    assert np.max(gap) < INT8_MAX and np.mean(gap) < INT8_MEAN
    assert np.min(gap) > -1e-5  # unit vectors: a cosine above 1 would be a bug


@pytest.mark.slow
def test_one_text_gets_the_same_vector_alone_or_in_a_padded_batch(onnx_data_dir):
    onnx = OnnxEmbedder.load(Settings(data_dir=onnx_data_dir).cache_dir, "onnx")
    texts = corpus_texts()
    together = np.array(onnx.embed(texts))
    picked = [0, 1, 2] + [texts.index(t) for t in EDGE_CASES]
    alone = np.array([onnx.embed([texts[i]])[0] for i in picked])
    assert np.max(np.abs(together[picked] - alone)) < 1e-5
    assert onnx.embed([]) == []


@pytest.mark.slow
def test_token_counts_and_truncation_equal_torch(onnx_data_dir, embedder):
    onnx = OnnxEmbedder.load(Settings(data_dir=onnx_data_dir).cache_dir, "onnx-int8")
    texts = corpus_texts()
    counts = onnx.count_tokens(texts)
    assert counts == embedder.count_tokens(texts)
    assert counts[-len(EDGE_CASES):] == [0, 0, 11, 5, 19, 49, 39, 240, 1, 400]
    assert max(counts[: -len(EDGE_CASES)]) > 256  # a paragraph the model cuts
    for budget in (1, 5, 48, 200, 256):
        assert [onnx.truncate(t, budget) for t in texts] == [embedder.truncate(t, budget) for t in texts]
    assert (onnx.name, onnx.max_tokens, onnx.count_tokens([])) == (embedder.name, embedder.max_tokens, [])


@pytest.mark.slow
def test_export_is_built_once_then_reused(onnx_data_dir):
    cache_dir = Settings(data_dir=onnx_data_dir).cache_dir
    before = cache_files(onnx_data_dir)
    assert [name.rsplit("-", 1)[0] for name in before] == ["all-MiniLM-L6-v2-onnx", "all-MiniLM-L6-v2-onnx-int8"]
    assert before == {onnx_path(cache_dir, v).name: onnx_path(cache_dir, v).stat().st_mtime_ns for v in ("onnx", "onnx-int8")}
    OnnxEmbedder.load(cache_dir, "onnx")
    OnnxEmbedder.load(cache_dir, "onnx-int8")
    assert cache_files(onnx_data_dir) == before  # same files, untouched, no temporary files left


@pytest.mark.slow
def test_partial_fp32_export_is_rebuilt(onnx_data_dir, torch_vectors, tmp_path):
    good = onnx_path(Settings(data_dir=onnx_data_dir).cache_dir, "onnx")
    cache_dir = Settings(data_dir=tmp_path).cache_dir
    partial = onnx_path(cache_dir, "onnx")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert open_session(partial, 1) is None

    onnx = OnnxEmbedder.load(cache_dir, "onnx")
    assert partial.stat().st_size > good.stat().st_size * 0.99
    gap = cosine_gap(np.array(onnx.embed(corpus_texts())), torch_vectors)
    assert np.max(np.abs(gap)) < FP32_MAX
    assert [p.name for p in partial.parent.iterdir()] == [partial.name]


@pytest.mark.slow
def test_corrupt_int8_export_is_requantised_from_the_cached_fp32(onnx_data_dir, torch_vectors, tmp_path):
    source_dir = Settings(data_dir=onnx_data_dir).cache_dir
    cache_dir = Settings(data_dir=tmp_path).cache_dir
    fp32, int8 = onnx_path(cache_dir, "onnx"), onnx_path(cache_dir, "onnx-int8")
    fp32.parent.mkdir(parents=True)
    shutil.copy2(onnx_path(source_dir, "onnx"), fp32)
    fp32_mtime = fp32.stat().st_mtime_ns
    int8.write_bytes(b"\x08\x07garbage, not an ONNX model" * 100)

    gap = cosine_gap(np.array(OnnxEmbedder.load(cache_dir, "onnx-int8").embed(corpus_texts())), torch_vectors)
    assert np.max(gap) < INT8_MAX
    assert fp32.stat().st_mtime_ns == fp32_mtime  # quantised from the cached fp32 file, not re-exported
    assert sorted(p.name for p in int8.parent.iterdir()) == [fp32.name, int8.name]


def test_failed_write_leaves_the_target_as_it_was(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"previous")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"half of a new fi")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
    write_atomically(target, lambda tmp: tmp.write_bytes(b"new"))
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


QUERY = """
import json, sys
from passage.settings import Settings
from ingest.embedders import load_embedder
embedder = load_embedder(Settings(data_dir=sys.argv[1], embedder=sys.argv[2]))
vector = embedder.embed(["How old was Yeonmi Park when she escaped?"])[0]
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)
print(json.dumps({"class": type(embedder).__name__, "dim": len(vector), "heavy": heavy}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["onnx", "onnx-int8"])
def test_query_path_never_imports_torch(onnx_data_dir, variant, tmp_path):
    before = cache_files(onnx_data_dir)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", QUERY, str(onnx_data_dir), variant], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"class": "OnnxEmbedder", "dim": 384, "heavy": []}
    assert cache_files(onnx_data_dir) == before


@pytest.mark.slow
def test_the_setting_selects_the_implementation(onnx_data_dir, monkeypatch):
    from ingest.embedding import MiniLMEmbedder

    for variant in ("onnx", "onnx-int8"):
        chosen = load_embedder(Settings(data_dir=onnx_data_dir, embedder=variant))
        assert (type(chosen), chosen.variant) == (OnnxEmbedder, variant)
    assert type(load_embedder(Settings(data_dir=onnx_data_dir))) is MiniLMEmbedder  # the default
    monkeypatch.setenv("PASSAGE_EMBEDDER", "onnx-int8")
    assert load_embedder(load_settings(data_dir=onnx_data_dir)).variant == "onnx-int8"


def test_bad_embedder_or_device_gives_one_line(tmp_path):
    with pytest.raises(ConfigError, match=r"^invalid setting embedder: Input should be 'torch', 'onnx' or 'onnx-int8'$"):
        load_settings(embedder="tensorflow")
    with pytest.raises(ConfigError, match=r"^invalid setting device: Value error, unknown device 'gpu'; choose cpu, cuda or cuda:N$"):
        load_settings(device="gpu")
    with pytest.raises(ConfigError, match=r"^device=cuda works only with embedder=torch; onnx-int8 runs on the CPU$"):
        load_embedder(Settings(data_dir=tmp_path, embedder="onnx-int8", device="cuda"))
    assert not (tmp_path / "cache").exists()  # refused before anything was built


@pytest.mark.slow
def test_cuda_without_a_gpu_is_refused(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(ConfigError, match=r"^device=cuda:1 needs a CUDA GPU and torch sees none; use device=cpu$"):
        load_embedder(Settings(data_dir=tmp_path, device="cuda:1"))


def test_unwritable_cache_gives_one_line(tmp_path):
    cache_dir = tmp_path / "cache"
    cache_dir.write_text("a file where the cache folder should be")
    with pytest.raises(ConfigError, match=r"^cannot write the onnx export to .*/cache/onnx: Not a directory$"):
        OnnxEmbedder.load(cache_dir, "onnx")
