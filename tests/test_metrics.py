"""Each metric against scikit-learn / SciPy on random data."""
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from mtdnn_core import metrics as m

rng = np.random.default_rng(0)
GOLD2 = rng.integers(0, 2, 300)
PRED2 = np.where(rng.random(300) < 0.7, GOLD2, 1 - GOLD2)
GOLD3 = rng.integers(0, 3, 300)
PRED3 = np.where(rng.random(300) < 0.6, GOLD3, rng.integers(0, 3, 300))


@pytest.mark.parametrize("golds,preds", [(GOLD2, PRED2), (GOLD3, PRED3)])
def test_classification_metrics_match_sklearn(golds, preds):
    assert m.accuracy(golds, preds) == pytest.approx(skm.accuracy_score(golds, preds))
    assert m.f1_macro(golds, preds) == pytest.approx(skm.f1_score(golds, preds, average="macro"))
    assert m.f1_micro(golds, preds) == pytest.approx(skm.f1_score(golds, preds, average="micro"))
    assert m.matthews_corrcoef(golds, preds) == pytest.approx(skm.matthews_corrcoef(golds, preds))
    assert m.confusion_matrix(golds, preds) == skm.confusion_matrix(golds, preds).tolist()


def test_binary_f1_and_auc_match_sklearn():
    assert m.f1_binary(GOLD2, PRED2) == pytest.approx(skm.f1_score(GOLD2, PRED2))
    scores = np.round(rng.random(300), 2)  # rounded: many ties
    probs = np.stack([1 - scores, scores], 1)
    assert m.roc_auc(GOLD2, PRED2, probs) == pytest.approx(skm.roc_auc_score(GOLD2, scores))


def test_correlations_match_scipy_with_ties():
    golds = np.round(rng.random(200) * 5, 1)
    preds = golds + rng.normal(0, 1, 200)
    preds[:20] = 1.0  # ties
    assert m.pearson(golds, preds) == pytest.approx(stats.pearsonr(golds, preds)[0])
    assert m.spearman(golds, preds) == pytest.approx(stats.spearmanr(golds, preds)[0])
    np.testing.assert_allclose(m.rankdata(preds), stats.rankdata(preds))


def test_metric_objects_report_times_100():
    metric, _ = m.BUILTIN_METRICS["accuracy"]
    assert metric([1, 0, 1, 1], [1, 0, 0, 1]) == pytest.approx(75.0)
    cmat, _ = m.BUILTIN_METRICS["confusion_matrix"]
    assert cmat([0, 1, 1], [0, 1, 0]) == [[1, 0], [1, 1]]


def test_degenerate_inputs_do_not_crash():
    assert m.matthews_corrcoef(np.array([1, 1]), np.array([1, 1])) == 0.0
    assert m.pearson(np.array([1.0, 1.0]), np.array([0.0, 2.0])) == 0.0


def test_hand_computed_values():
    golds = np.array([1, 1, 0, 2, 1, 0])
    preds = np.array([1, 0, 0, 1, 1, 2])
    # class 1: tp 2, fp 1, fn 1 -> F1 = 4 / 6, also with a third label present
    assert m.f1_binary(golds, preds) == pytest.approx(4 / 6)
    assert m.accuracy(golds, preds) == pytest.approx(3 / 6)
    assert m.confusion_matrix(np.array([0, 0]), np.array([0, 0]), n_classes=3) == [[2, 0, 0], [0, 0, 0], [0, 0, 0]]
    assert m.pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 7.0])) == pytest.approx(0.9933992677987828)
    assert m.spearman(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    assert np.isnan(m.roc_auc(np.array([1, 1]), np.array([1, 1]), np.array([0.2, 0.8])))
