"""Each task is resolved once, in the plan, and one function decides its loss."""
from pathlib import Path

from mtdnn_core.api import PluginHost, TaskDef, Trainer, build_train_config, plan_run, resolve_task

TASKS = ("pair:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  labels: ['no', 'yes']\n"
         "score:\n  data_format: PremiseAndOneHypothesis\n  task_type: Regression\n")
PAIR_ROWS = "1\tyes\ta man sleeps\tsomeone sleeps\n2\tno\ta dog runs\ta cat sits\n"
SCORE_ROWS = "1\t4.5\ta man sleeps\tsomeone sleeps\n2\t0.5\ta dog runs\ta cat sits\n"


def _config(root: Path):
    (root / "tasks.yml").write_text(TASKS)
    data = root / "data"
    data.mkdir()
    for split in ("train", "dev"):
        (data / f"pair_{split}.tsv").write_text(PAIR_ROWS)
        (data / f"score_{split}.tsv").write_text(SCORE_ROWS)
    return build_train_config({"tasks": ["pair", "score"], "task_def": [str(root / "tasks.yml")],
                               "data_dir": str(data), "output_dir": str(root / "run"), "epochs": 1,
                               "batch_size": 2, "max_seq_len": 32, "device": "cpu", "num_threads": 2,
                               "encoder": "tiny-random-bert"})


def test_a_training_run_looks_up_each_task_type_and_metric_once(tmp_path, monkeypatch):
    host = PluginHost([])
    registry = host.registries.task_types
    asked: list[str] = []
    metrics_asked: list[str] = []
    real_get = registry.get
    real_metric_get = host.registries.metrics.get

    def counting_get(name):
        asked.append(name)
        return real_get(name)

    def counting_metric_get(name):
        metrics_asked.append(name)
        return real_metric_get(name)

    monkeypatch.setattr(registry, "get", counting_get)
    plan = plan_run(_config(tmp_path), host)
    monkeypatch.setattr(host.registries.metrics, "get", counting_metric_get)
    trainer = Trainer.from_plan(plan, progress=False)
    summary = trainer.train()
    assert sorted(asked) == ["Classification", "Regression"]  # one look-up per task, two tasks
    # evaluation scores with the metric objects resolved in the plan: no look-up by name while
    # training and scoring both dev sets (each epoch)
    assert metrics_asked == []
    scored = summary["history"][-1]["metrics"]
    assert set(scored["pair_dev"]) == {m.name for m in plan.resolved["pair"].metrics}
    assert (tmp_path / "run").is_dir()
    assert plan.resolved["pair"].task_type is real_get("classification").factory
    assert plan.resolved["score"].task_type is real_get("regression").factory


def _definition(**extra) -> TaskDef:
    return TaskDef(name="t", data_format="PremiseAndOneHypothesis", **extra)


def test_the_loss_is_the_task_types_default_unless_the_definition_names_one():
    registries = PluginHost([]).registries
    assert resolve_task(_definition(task_type="Classification"), registries).loss == "ce"
    assert resolve_task(_definition(task_type="Regression"), registries).loss == "mse"
    assert resolve_task(_definition(task_type="Ranking"), registries).loss == "rank_ce"
    overridden = resolve_task(_definition(task_type="Classification", loss="sym_kl"), registries)
    assert overridden.loss == "sym_kl" and overridden.definition.loss == "sym_kl"
    completed = resolve_task(_definition(task_type="Regression"), registries)
    assert completed.definition.loss == "mse" and completed.definition.task_type == "regression"


def test_head_and_loss_configs_are_validated_once_and_reach_the_model(tmp_path):
    """The plan validates ``head_config`` into the head's config model; the model is built from
    that object (the registry takes an instance of the model as it is), so the head gets the
    dropout the definition asked for."""
    registries = PluginHost([]).registries
    resolved = resolve_task(_definition(task_type="Classification", head="pooler", head_config={"dropout": 0.3}),
                            registries)
    assert resolved.head_config.dropout == 0.3 and resolved.head_config.model_fields_set == {"dropout"}
    assert registries.heads.validate_config("pooler", resolved.head_config) is resolved.head_config
    assert resolve_task(_definition(task_type="Classification", head="pooler"), registries).head_config.dropout is None

    config = _config(tmp_path)
    config = config.model_copy(update={"task_overrides": {"pair": {"enable_san": False, "head_config": {"dropout": 0.3}}}})
    plan = plan_run(config, PluginHost([]))
    trainer = Trainer.from_plan(plan, progress=False)
    assert trainer.model.heads["pair"].dropout.p == 0.3
