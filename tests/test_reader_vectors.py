"""The reader's sentence vector cache: what a sentence's vector is must not depend on whether it
was embedded in this process or read back from the cache file."""
from __future__ import annotations

import numpy as np

from rag.reader.vectors import VectorCache
from tests.conftest import CountingEmbedder, WordsEmbedder

TEXTS = ["Yeonmi Park escaped at the age of 13.", "The Act was enacted in 2004.", "three words here"]


def test_a_vector_is_the_same_embedded_now_or_read_back_by_another_process(tmp_path):
    fresh = CountingEmbedder(WordsEmbedder())
    now = VectorCache(fresh, tmp_path / "sentences.sqlite").embed(TEXTS)
    later = CountingEmbedder(WordsEmbedder())
    read_back = VectorCache(later, tmp_path / "sentences.sqlite").embed(TEXTS)
    assert later.counts == {}  # all three came from the file
    assert now.dtype == read_back.dtype == np.float32
    assert np.array_equal(now, read_back)
    # 1/sqrt(7) is not a float16 number: the value used is the stored one, not the embedder's
    exact = np.asarray(WordsEmbedder().embed(TEXTS[:1])[0])
    assert not np.array_equal(now[0], exact) and np.abs(now[0] - exact).max() < 1e-3


def test_without_a_file_vectors_are_rounded_the_same_way(tmp_path):
    with_file = VectorCache(WordsEmbedder(), tmp_path / "sentences.sqlite").embed(TEXTS)
    memory_only = VectorCache(WordsEmbedder(), None).embed(TEXTS)
    assert np.array_equal(with_file, memory_only)
