"""Every SentenceScorer through the same cases (rag/reader/scorer.py), and the reading model's
files: loaded offline by onnxruntime, refused with one clear message when missing or not the
stamped ones."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from passage.errors import ConfigError
from passage.models import Chunk, Passage
from rag.reader.candidates import candidates
from rag.reader.cross_encoder import STAMP, CrossEncoderScorer, model_folder, read_stamp

pytestmark = pytest.mark.slow


def _passage(n: int, heading: str, text: str) -> Passage:
    chunk = Chunk(id=f"c{n}", source=f"doc{n}", title=heading, section=heading, text=text, start=0, end=len(text),
                  page=None, tokens=len(text.split()), prefix=heading)
    return Passage(chunk, 1.0 / n)


POOL = [
    _passage(1, "Yeonmi Park", "Yeonmi Park is a human rights activist. The family lived in Hyesan. She escaped North "
                               "Korea at the age of 13 with her mother in 2007."),
    _passage(2, "Geography", "The Tumen River forms part of the border with China and Russia. It freezes in winter."),
    _passage(3, "Law", "Article 13 says everyone has the right to leave any country, including his own."),
]
CASES = [  # question, the sentence that answers it
    ("How old was Yeonmi Park when she escaped?", "She escaped North Korea at the age of 13 with her mother in 2007."),
    ("Which river forms part of the border with Russia?", "The Tumen River forms part of the border with China and Russia."),
    ("What right does Article 13 give?", "Article 13 says everyone has the right to leave any country, including his own."),
]


@pytest.fixture(scope="module", params=["cross-encoder", "similarity"])
def scorer(request, embedder):
    if request.param == "cross-encoder":
        return CrossEncoderScorer()
    from rag.reader.scorer import SimilarityScorer
    from rag.reader.vectors import VectorCache

    return SimilarityScorer(VectorCache(embedder))


def test_one_probability_per_candidate_in_order(scorer):
    cands = candidates(POOL)
    probs = scorer.score(CASES[0][0], cands)
    assert probs.shape == (len(cands),)
    assert ((probs >= 0) & (probs <= 1)).all()
    flipped = scorer.score(CASES[0][0], cands[::-1])
    assert np.allclose(flipped[::-1], probs, atol=1e-5)


def test_no_candidates_no_scores(scorer):
    assert scorer.score("How old was she?", []).shape == (0,)


@pytest.mark.parametrize("question, answer", CASES)
def test_the_sentence_that_answers_scores_highest(scorer, question, answer):
    cands = candidates(POOL)
    probs = scorer.score(question, cands)
    assert cands[int(np.argmax(probs))].text == answer


def test_the_reading_model_tells_an_answer_from_a_sentence_that_only_shares_its_words():
    """What the trained model adds over similarity: the question's asked-for fact must be there."""
    cands = candidates([_passage(1, "Yeonmi Park", "Yeonmi Park was born in Hyesan in 1993. She has written a memoir "
                                                   "about her escape from North Korea.")])
    probs = CrossEncoderScorer().score("In which city was Yeonmi Park born?", cands)
    assert cands[int(np.argmax(probs))].text.startswith("Yeonmi Park was born in Hyesan")


def test_the_shipped_stamp_names_an_onnx_file_of_at_most_25_mb():
    stamp = read_stamp()
    assert (model_folder() / stamp.onnx).stat().st_size <= 25 * 1024 * 1024
    assert stamp.calibration["keep"] >= 1 and 0 < stamp.calibration["threshold"] < 1


def _copy(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(model_folder(), folder)
    return folder


def test_a_missing_onnx_file_is_one_clear_error(tmp_path):
    folder = _copy(tmp_path)
    (folder / read_stamp(folder).onnx).unlink()
    with pytest.raises(ConfigError, match=r"the reading model is missing: no .*\.onnx; reinstall passage or retrain"):
        CrossEncoderScorer(folder).score("q?", candidates(POOL))


def test_a_missing_stamp_is_one_clear_error(tmp_path):
    folder = _copy(tmp_path)
    (folder / STAMP).unlink()
    with pytest.raises(ConfigError, match=r"the reading model is missing: no .*reader\.json"):
        CrossEncoderScorer(folder)


def test_an_onnx_file_that_is_not_the_stamped_one_is_refused(tmp_path):
    folder = _copy(tmp_path)
    onnx = folder / read_stamp(folder).onnx
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ConfigError, match=r"is not the model reader\.json stamps \(version "):
        CrossEncoderScorer(folder).score("q?", candidates(POOL))


def test_a_stamp_of_another_format_is_refused(tmp_path):
    folder = _copy(tmp_path)
    data = json.loads((folder / STAMP).read_text())
    data["format"] = 99
    (folder / STAMP).write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"reading model format 99, this version reads format 1"):
        CrossEncoderScorer(folder)


def test_asking_never_imports_torch(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom rag.reader.cross_encoder import CrossEncoderScorer\nfrom rag.reader.candidates import candidates\n"
            "from tests.test_scorer_contract import POOL\n"
            "print(CrossEncoderScorer().score('How old was she?', candidates(POOL)).shape, 'torch' in sys.modules)\n")
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == "False"


class ChosenScorer:
    """A fake reading model: certain of one sentence, doubtful of the rest; notes what it read."""

    name = "chosen"

    def __init__(self, sentence: str):
        self.sentence = sentence
        self.read: list[str] = []

    def score(self, question, candidates):
        self.read += [c.text for c in candidates]
        return np.array([1.0 if c.text == self.sentence else 0.0 for c in candidates])


def test_the_reader_answers_from_whichever_scorer_it_is_given(assistant):
    from rag.reader.answerer import ReaderAnswerer
    from rag.reader.reader import Reader

    real = assistant.answerer("reader").reader
    question = "How old was Yeonmi Park when she escaped?"
    retrieval = assistant.retriever.search(question, 5)
    inputs = real.inputs(question, retrieval)
    first = real.weights.sentence.predict(inputs.features)
    third = inputs.candidates[int(np.argsort(-first, kind="stable")[2])].text
    fake = ChosenScorer(third)
    reader = Reader(real.vectors, real.tokenize, real.idf, real.weights, fake, real.calibration, real.pool)
    reading = reader.read(question, retrieval)
    assert reading.lead.text == third
    assert len(fake.read) == real.calibration.keep  # only the sentence model's best are read
    answer = ReaderAnswerer(reader, threshold=0.0).answer(question, retrieval)
    assert third in answer.text
