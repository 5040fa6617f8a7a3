"""The reader's model kinds in the weights file: numpy trees that predict what scikit-learn's do."""
from __future__ import annotations

import json

import numpy as np
import pytest

from passage.errors import ConfigError, InputError
from rag.reader.features import QUESTION_FEATURES
from rag.reader.model import FORMAT, Logistic, Tree, Trees, load_weights, model_from_json, save_weights

STUMP = Tree(np.array([0, -1, -1]), np.array([0.5, 0.0, 0.0]), np.array([1, -1, -1]), np.array([2, -1, -1]),
             np.array([0.0, -2.0, 2.0]))


def sigmoid(z):
    return 1 / (1 + np.exp(-np.asarray(z, dtype=float)))


def test_trees_add_scaled_leaf_values_to_the_base():
    model = Trees(("x",), 0.5, 0.1, (STUMP, STUMP))
    # x <= 0.5 goes left (-2 per tree), else right (+2): z = 0.5 + 0.1 * (2 * +-2)
    assert model.predict(np.array([[0.5], [0.6]])) == pytest.approx(sigmoid([0.1, 0.9]))
    assert len(model.predict(np.zeros((0, 1)))) == 0


def test_a_deeper_tree_walks_to_the_right_leaf():
    tree = Tree(np.array([0, 1, -1, -1, -1]), np.array([0.0, 1.0, 0, 0, 0]), np.array([1, 3, -1, -1, -1]),
                np.array([2, 4, -1, -1, -1]), np.array([0.0, 0.0, 5.0, 1.0, 3.0]))
    rows = np.array([[-1.0, 0.0], [-1.0, 2.0], [1.0, 0.0]])
    assert tree.leaf_values(rows).tolist() == [1.0, 3.0, 5.0]


def test_trees_round_trip_and_refuse_broken_entries():
    model = Trees(("x",), 0.5, 0.1, (STUMP,))
    data = json.loads(json.dumps(model.to_json()))
    assert data["kind"] == "trees"
    again = model_from_json(data, ("x",), "w")
    assert again.predict([[0.0], [1.0]]).tolist() == model.predict([[0.0], [1.0]]).tolist()
    with pytest.raises(ConfigError, match="retrain"):
        model_from_json(data, ("y",), "w")
    with pytest.raises(ConfigError, match="unknown model kind 'forest'"):
        model_from_json({**data, "kind": "forest"}, ("x",), "w")
    looping = {**data, "trees": [{**data["trees"][0], "left": [0, -1, -1]}]}
    with pytest.raises(ConfigError, match="node links"):
        model_from_json(looping, ("x",), "w")
    wide = {**data, "trees": [{**data["trees"][0], "feature": [3, -1, -1]}]}
    with pytest.raises(ConfigError, match="does not match 1 features"):
        model_from_json(wide, ("x",), "w")
    with pytest.raises(ConfigError, match="no trees"):
        model_from_json({**data, "trees": []}, ("x",), "w")


def test_fitted_trees_predict_what_scikit_learn_predicts():
    sklearn = pytest.importorskip("sklearn.ensemble")
    from training.first_stage import fit_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=400) > 0).astype(float)
    model = fit_trees(x, y, ("a", "b", "c"))
    reference = sklearn.GradientBoostingClassifier(n_estimators=100, max_depth=2, learning_rate=0.05, min_samples_leaf=10,
                                                   subsample=0.8, random_state=0).fit(x, y)
    fresh = rng.normal(size=(200, 3))
    assert np.abs(model.predict(fresh) - reference.predict_proba(fresh)[:, 1]).max() < 1e-9
    # an interaction a logistic regression cannot draw: the trees get most of it right
    assert ((model.predict(fresh) > 0.5) == (fresh[:, 0] * fresh[:, 1] > 0)).mean() > 0.8


def test_a_model_needs_examples_of_both_outcomes():
    pytest.importorskip("sklearn")
    from training.first_stage import fit_logistic, fit_trees

    x = np.random.default_rng(2).normal(size=(30, 2))
    with pytest.raises(InputError, match="^training needs both outcomes among the examples: all 30 are negative"):
        fit_trees(x, np.zeros(30), ("a", "b"))
    with pytest.raises(InputError, match="all 30 are positive"):
        fit_logistic(x, np.ones(30), ("a", "b"))


def test_the_shipped_weights_name_each_models_kind_and_format(tmp_path):
    weights = load_weights()
    assert isinstance(weights.answerable, Trees) and isinstance(weights.right, Trees)
    assert isinstance(weights.sentence, Logistic)
    assert weights.answerable.features == QUESTION_FEATURES
    path = tmp_path / "w.json"
    save_weights(weights, path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT == 3
    assert [data[m]["kind"] for m in ("sentence", "answerable", "right")] == ["logistic", "trees", "trees"]
    rows = np.random.default_rng(1).normal(size=(5, len(QUESTION_FEATURES)))
    assert load_weights(path).answerable.predict(rows).tolist() == weights.answerable.predict(rows).tolist()
    assert "answer_quotes_evidence_out_of_fold" in weights.figures
    data["answerable"]["trees"][0]["value"] = "lots"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="malformed"):
        load_weights(path)
