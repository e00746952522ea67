"""The run plan through the API: decided without a model, and what the trainer builds from."""
from pathlib import Path

from mtdnn_core.api import PluginHost, RunPlan, Trainer, build_train_config, plan_run

TASKS = "pair:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: ['no', 'yes']\n"
ROWS = "1\tyes\ta man sleeps\tsomeone sleeps\n2\tno\ta dog runs\ta cat sits\n"


def _config(root: Path, **extra):
    (root / "tasks.yml").write_text(TASKS)
    data = root / "data"
    data.mkdir(exist_ok=True)
    for split in ("train", "dev", "test"):
        (data / f"pair_{split}.tsv").write_text(ROWS)
    return build_train_config({"tasks": ["pair"], "task_def": [str(root / "tasks.yml")], "data_dir": str(data),
                               "output_dir": str(root / "run"), "epochs": 1, "batch_size": 2, "max_seq_len": 32,
                               "device": "cpu", "num_threads": 2, **extra})


def test_a_plan_needs_no_model(tmp_path):
    # an encoder that cannot be loaded here: planning never tries
    plan = plan_run(_config(tmp_path, encoder="no-such-org/no-such-model"), PluginHost([]))
    data = tmp_path / "data"
    assert isinstance(plan, RunPlan) and list(plan.tasks) == ["pair"]
    assert plan.files == {"pair": {"train": data / "pair_train.tsv", "dev": data / "pair_dev.tsv",
                                   "test": data / "pair_test.tsv"}}
    assert plan.first_metrics == {"pair": "accuracy"} and plan.criterion is None
    assert not (tmp_path / "run").exists()


def test_the_trainer_builds_what_the_plan_says(tmp_path):
    plan = plan_run(_config(tmp_path, encoder="tiny-random-bert", eval_splits=["dev"],
                            metric_for_best="pair:accuracy"), PluginHost([]))
    trainer = Trainer.from_plan(plan, progress=False)
    assert trainer.plan is plan and trainer.config is plan.config
    assert [d.name for d in trainer.data.eval] == ["pair_dev"] and [d.name for d in trainer.data.train] == ["pair_train"]
    assert trainer.tracker is not None and trainer.tracker is not plan.tracker()  # each trainer its own
