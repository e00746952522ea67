"""EM/F1 against hand-worked examples of the official SQuAD rules, and the metrics as registered."""
import numpy as np
import pytest

from mtdnn_core.api import DataError, check_task_defs, parse_task_defs
from mtdnn_core.testing import make_host
from mtdnn_squad import plugin
from mtdnn_squad.evaluation import evaluate_v1, evaluate_v2, exact_match, f1_v1, f1_v2, normalize_answer


def test_normalisation_lowercases_and_drops_punctuation_articles_and_spaces():
    assert normalize_answer("The  Quick,\tbrown fox!") == "quick brown fox"
    assert normalize_answer("An apple a day") == "apple day"
    assert normalize_answer("theater") == "theater"  # articles only as whole words
    assert normalize_answer("the-end") == "theend"  # punctuation goes first, so 'the' is no longer a word


def test_exact_match_and_f1_by_hand():
    assert exact_match("an apple", "Apple.") == 1
    # gold tokens after normalising: cat sat on mat (4); prediction: cat sat mat (3); 3 in common
    precision, recall = 3 / 3, 3 / 4
    assert f1_v1("the cat sat on the mat", "cat sat mat") == pytest.approx(2 * precision * recall / (precision + recall))
    assert f1_v1("Paris", "Rome") == 0.0
    # repeated tokens count as often as they occur in both: gold (x, x, y), prediction (x): 1 in common
    assert f1_v1("x x y", "x") == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))


def test_empty_answers_differ_between_1_1_and_2_0():
    assert f1_v1("", "") == 0.0  # 1.1: no common token
    assert f1_v2("", "") == 1.0 and f1_v2("", "the") == 1.0  # 2.0: both empty after normalising
    assert f1_v2("", "Paris") == 0.0 and f1_v2("Paris", "") == 0.0


def test_v1_takes_the_best_gold_and_scores_missing_predictions_zero():
    golds = [["Denver Broncos", "The Denver Broncos"], ["Santa Clara, California"], ["gold"]]
    result = evaluate_v1(golds, ["denver broncos", "Santa Clara", None])
    f1_second = 2 * 1 * (2 / 3) / (1 + 2 / 3)  # 2 of 3 gold tokens, all predicted tokens right
    assert result == pytest.approx({"exact_match": 100 / 3, "f1": 100 * (1 + f1_second) / 3, "missing": 1})
    with pytest.raises(DataError, match="SQuAD 2.0 rules"):
        evaluate_v1([[]], ["x"])


# q1 answered right, q2 answerable but answered "" (its null odds were above the threshold),
# q3 unanswerable and answered "", q4 unanswerable but answered
GOLDS = [["Paris"], ["Rome", "rome city"], [], []]
PREDICTIONS = ["paris", "", "", "Berlin"]
ODDS = [-2.0, 3.0, 1.0, -1.0]


def test_v2_splits_has_and_no_answer_questions():
    result = evaluate_v2(GOLDS, PREDICTIONS)
    assert result == {"exact": 50.0, "f1": 50.0, "total": 4, "HasAns_exact": 50.0, "HasAns_f1": 50.0, "HasAns_total": 2,
                      "NoAns_exact": 50.0, "NoAns_f1": 50.0, "NoAns_total": 2}


def test_v2_best_threshold_as_the_official_search():
    # start from "no answer everywhere": 2 of 4 right; accept in increasing null odds:
    # q1 (-2): +1 -> 3 (best so far, threshold -2); q4 (-1): answered an unanswerable one -> 2;
    # q3 (1): "" -> 2; q2 (3): answered "" -> 2. Best 3/4 at -2.
    result = evaluate_v2(GOLDS, PREDICTIONS, ODDS)
    assert (result["best_exact"], result["best_exact_thresh"]) == (75.0, -2.0)
    assert (result["best_f1"], result["best_f1_thresh"]) == (75.0, -2.0)
    assert result["exact"] == 50.0  # without na_prob_thresh the predictions count as they are


def test_v2_na_prob_threshold_turns_high_odds_into_no_answer():
    result = evaluate_v2(GOLDS, PREDICTIONS, ODDS, na_prob_thresh=-1.5)
    # odds above -1.5: q2 (no answer: wrong, it has one), q3 (right), q4 (now right); q1 stays right
    assert result["exact"] == 75.0 and result["NoAns_exact"] == 100.0 and result["HasAns_exact"] == 50.0


def test_registered_metrics_and_the_original_names():
    host = make_host(plugin)
    metrics = host.registries.metrics
    golds = np.empty(4, dtype=object)
    preds = np.empty(4, dtype=object)
    for i, (g, p) in enumerate(zip(GOLDS, PREDICTIONS)):
        golds[i], preds[i] = g, p
    assert metrics.get("squad_v2_has_ans_f1").factory(golds, preds, np.array(ODDS)) == 50.0
    assert metrics.get("squad_v2_best_f1_thresh").factory(golds, preds, np.array(ODDS)) == -2.0
    assert metrics.get("EmF12").factory(golds, preds, np.array(ODDS))["best_f1"] == 75.0
    assert metrics.get("EmF1").factory(golds[:2], preds[:2])["exact_match"] == 50.0
    assert metrics.get("EM").name == "squad_em"
    assert metrics.get("F1").name == "f1"  # the core's alias stays the core's


def test_v1_metrics_on_a_v2_task_are_refused_at_validation():
    host = make_host(plugin)
    defs = parse_task_defs("qa:\n  data_format: CLUE_SPAN\n  task_type: SpanYN\n  metric_meta: [EmF1]\n"
                           "qb:\n  data_format: MRC\n  task_type: Span\n  metric_meta: [squad_v2_best_f1]\n")
    problems = check_task_defs(defs, host.registries)
    assert any("qa.metric_meta: EmF1 follow SQuAD 1.1 rules" in p for p in problems)
    assert any("qb.metric_meta: squad_v2_best_f1 need null odds" in p for p in problems)
