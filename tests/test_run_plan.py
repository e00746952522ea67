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


def _plan(root: Path, **extra) -> RunPlan:
    return plan_run(_config(root, encoder="tiny-random-bert", **extra), PluginHost([]))


def test_update_counts_follow_accumulation_epochs_and_warmup(tmp_path):
    """10 batches an epoch, 3 batches an update: updates after batches 3, 6, 9 and the partial
    10th, so 4 an epoch, 8 over 2 epochs; 10% warm-up of 8 rounds to 1; max_steps overrides."""
    plan = _plan(tmp_path, grad_accumulation=3, epochs=2, warmup=0.1)
    counts = plan.update_counts(10)
    assert (counts.batches_per_epoch, counts.updates_per_epoch, counts.total_updates, counts.warmup_updates) == (10, 4, 8, 1)
    assert _plan(tmp_path, max_steps=5, warmup=2.0).update_counts(10).total_updates == 5
    assert _plan(tmp_path, max_steps=5, warmup=2.0).update_counts(10).warmup_updates == 2
    assert _plan(tmp_path, epochs=0).update_counts(0).total_updates == 1  # a scoring-only run still has a schedule
