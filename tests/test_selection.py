"""Best-checkpoint selection and early stopping on a hand-made metric history."""
import json

import pytest

from mtdnn_core.errors import ConfigError, MtdnnError
from mtdnn_core.training.selection import BestTracker, Criterion, resolve_best, split_best, write_best

FIRST = {"rte": "accuracy", "stsb": "pearson", "mlm": "mlm_loss"}
DIRECTION = {"accuracy": True, "pearson": True, "mlm_loss": False}


def evaluation(rte, stsb, mlm):
    return {"rte_dev": {"accuracy": rte}, "rte_test": {}, "stsb_dev": {"pearson": stsb, "spearman": 0.0},
            "mlm_dev": {"mlm_loss": mlm, "perplexity": 2.718}}


HISTORY = [  # (step, rte acc, stsb pearson, mlm loss)
    (10, 50.0, 20.0, 5.0),
    (20, 55.0, 30.0, 4.0),
    (30, 54.0, 40.0, 4.5),
    (40, 55.0, 10.0, 3.0),
    (50, 53.0, 35.0, 3.5),
    (60, 52.0, 36.0, 3.9),
]


def run(spec, patience=None):
    tracker = BestTracker(Criterion.parse(spec, FIRST, DIRECTION), patience)
    return [tracker.update(step, evaluation(*values)) for step, *values in HISTORY]


def test_task_metric_picks_the_first_strict_maximum():
    decisions = run("rte:accuracy")
    assert [d.improved for d in decisions] == [True, True, False, False, False, False]  # 55 again is no improvement
    assert decisions[-1].best_step == 20 and decisions[-1].best_score == 55.0


def test_lower_is_better_metrics_and_dataset_names():
    decisions = run("mlm:mlm_loss")
    assert [d.improved for d in decisions] == [True, True, False, True, False, False]
    assert decisions[-1].best_step == 40
    assert run("stsb_dev:pearson")[-1].best_step == 30


def test_mean_over_first_metrics_flips_losses():
    # means of (rte, stsb, -mlm): 21.67, 27.0, 29.83, 20.67, 28.17, 28.03
    decisions = run("mean")
    assert [d.improved for d in decisions] == [True, True, True, False, False, False]
    assert decisions[2].score == pytest.approx((54.0 + 40.0 - 4.5) / 3)


def test_early_stopping_after_patience_evaluations_without_improvement():
    decisions = run("rte:accuracy", patience=3)
    assert [d.stop for d in decisions] == [False, False, False, False, True, True]
    assert not any(d.stop for d in run("rte:accuracy", patience=5))


def test_replay_rebuilds_the_state_of_a_resumed_run():
    history = [{"step": step, "metrics": evaluation(*values)} for step, *values in HISTORY[:4]]
    tracker = BestTracker(Criterion.parse("rte:accuracy", FIRST, DIRECTION), patience=3)
    tracker.replay(history)
    assert (tracker.best_step, tracker.since_best) == (20, 2)
    assert tracker.update(50, evaluation(*HISTORY[4][1:])).stop


def test_bad_specs_are_config_errors():
    with pytest.raises(ConfigError, match="TASK:METRIC"):
        Criterion.parse("accuracy", FIRST, DIRECTION)
    with pytest.raises(ConfigError, match="not one of the run's tasks"):
        Criterion.parse("mnli:accuracy", FIRST, DIRECTION)


def test_best_json_and_run_best(tmp_path):
    criterion = Criterion.parse("mlm:mlm_loss", FIRST, DIRECTION)
    with pytest.raises(MtdnnError, match="no best.json"):
        resolve_best(tmp_path)
    (tmp_path / "checkpoint-0000040").mkdir()
    write_best(tmp_path, "checkpoint-0000040", 40, criterion, -3.0)
    assert json.loads((tmp_path / "best.json").read_text())["value"] == 3.0
    assert resolve_best(tmp_path) == tmp_path / "checkpoint-0000040"
    assert split_best(f"{tmp_path}:best") == (tmp_path, True)
    assert split_best(str(tmp_path)) == (tmp_path, False)
