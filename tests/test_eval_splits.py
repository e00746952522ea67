"""``eval_splits`` (``--eval-splits``): which dev/test sets a run scores, decided in its plan."""
import json
from pathlib import Path

from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.training.plan import chosen_splits, split_matches

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--batch-size", "8", "--num-threads", "2",
        "--device", "cpu", "--epochs", "1"]
TASKS = "pair:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: ['no', 'yes']\n"
ROWS = "1\tyes\ta man sleeps\tsomeone sleeps\n2\tno\ta dog runs\ta cat sits\n"


def _workspace(root: Path) -> list[str]:
    (root / "tasks.yml").write_text(TASKS)
    data = root / "data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        (data / f"pair_{split}.tsv").write_text(ROWS)
    return ["--task-def", str(root / "tasks.yml"), "--data-dir", str(data), "--tasks", "pair",
            "--output-dir", str(root / "run"), *TINY]


def test_a_name_matches_a_split_or_its_last_part():
    assert split_matches("dev", ["dev"]) and split_matches("matched_dev", ["dev"])
    assert not split_matches("matched_test", ["dev"]) and not split_matches("ax", ["dev", "test"])
    assert not split_matches("devx", ["dev"])
    files = {"mnli": {"train": Path("t"), "matched_dev": Path("a"), "matched_test": Path("b"), "ax": Path("c")}}
    assert chosen_splits(files, None) == files
    assert chosen_splits(files, ["dev"]) == {"mnli": {"train": Path("t"), "matched_dev": Path("a")}}
    assert chosen_splits(files, []) == {"mnli": {"train": Path("t")}}


def test_a_run_with_eval_splits_dev_scores_no_test_set(tmp_path):
    args = _workspace(tmp_path)
    result = CliRunner().invoke(main, ["train", *args, "--no-progress", "--eval-splits", "dev"])
    assert result.exit_code == 0, result.output
    scores = sorted(p.name for p in (tmp_path / "run" / "scores").iterdir())
    assert scores == ["pair_dev.epoch0.json"]
    history = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(history[-1]["metrics"]) == {"pair_dev"}


def test_validate_shows_the_sets_scored(tmp_path):
    args = _workspace(tmp_path)
    every = CliRunner().invoke(main, ["validate", *args])
    assert every.exit_code == 0 and "scores pair_dev, pair_test" in every.output, every.output
    dev = CliRunner().invoke(main, ["validate", *args, "--eval-splits", "dev"])
    assert dev.exit_code == 0 and "scores pair_dev\n" in dev.output, dev.output


def test_a_split_name_matching_nothing_is_refused_before_training(tmp_path):
    args = _workspace(tmp_path)
    for command in ("train", "validate"):
        result = CliRunner().invoke(main, [command, *args, "--eval-splits", "dev,dve"])
        assert result.exit_code == 2, result.output
        assert "eval_splits: dve matches none" in result.output and "pair_dev" not in result.output.split("(")[0]
        assert "Traceback" not in result.output
        assert not (tmp_path / "run" / "metrics.json").exists()


def test_metric_for_best_on_a_skipped_set_is_refused(tmp_path):
    args = _workspace(tmp_path)
    result = CliRunner().invoke(main, ["train", *args, "--eval-splits", "dev", "--metric-for-best", "pair_test:accuracy"])
    assert result.exit_code == 2, result.output
    assert "pair_test" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run" / "metrics.json").exists()
