"""End to end: CLI training on canonical files, prediction, exact resume, non-finite losses."""
import json
import types

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from mtdnn_core import hookimpl
from mtdnn_core.cli import main
from mtdnn_core.errors import TrainingDiverged
from mtdnn_core.testing import Interrupt, interrupt_at, make_host, nan_loss_plugin, nan_loss_task_file, write_tiny_tasks
from mtdnn_core.training.trainer import Trainer

TINY = ["--encoder", "tiny-random-bert", "--batch-size", "16", "--max-seq-len", "64", "--lr", "1e-3",
        "--num-threads", "2", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    task_def, data = write_tiny_tasks(root / "tasks", rows=240, test=True)
    out = root / "run"
    result = CliRunner().invoke(main, [
        "train", "--task-def", str(task_def), "--data-dir", str(data), "--tasks", "pair,reg", "--epochs", "2",
        "--max-train-samples", "240", "--max-eval-samples", "120", "--eval-every", "20", "--output-dir", str(out), *TINY,
    ])
    assert result.exit_code == 0, result.output
    return out, result.output, data


def test_train_cli_writes_metrics_scores_checkpoints_and_log(trained):
    out, output, _ = trained
    assert "pair_dev" in output and "reg_dev" in output
    history = json.loads((out / "metrics.json").read_text())
    assert [h["tag"] for h in history] == ["step20", "epoch0", "step40", "epoch1"]
    pair = json.loads((out / "scores" / "pair_dev.epoch1.json").read_text())
    assert len(pair["uids"]) == len(pair["predictions"]) == len(pair["scores"]) == 120
    assert set(pair["predictions"]) <= {"no", "yes"}
    assert 0 <= pair["metrics"]["accuracy"] <= 100
    assert all(abs(sum(s) - 1) < 1e-4 for s in pair["scores"])
    reg = json.loads((out / "scores" / "reg_dev.epoch1.json").read_text())
    assert set(reg["metrics"]) == {"pearson", "spearman"}
    test = json.loads((out / "scores" / "pair_test.epoch1.json").read_text())
    assert test["metrics"] == {} and len(test["predictions"]) == 120
    latest = json.loads((out / "latest.json").read_text())
    ckpt = out / latest["checkpoint"]
    assert {p.name for p in ckpt.iterdir()} >= {"model.safetensors", "trainer_state.pt", "state.json", "encoder"}
    assert not list(out.glob(".checkpoint-*"))  # no temporary directories left behind
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    train_records = [r for r in log if r["event"] == "train"]
    assert train_records and all({"loss", "lr", "step"} <= set(r) for r in train_records)
    # 240 rows per task, batch 16 -> 30 batches per epoch, 2 epochs
    assert train_records[-1]["step"] == 60


def test_predict_cli_reproduces_the_trainers_evaluation(trained, tmp_path):
    out, _, data = trained
    subset = tmp_path / "pair_dev_subset.tsv"
    subset.write_text("".join((data / "pair_dev.tsv").read_text().splitlines(keepends=True)[:120]))
    pred_file = tmp_path / "pred.json"
    result = CliRunner().invoke(main, ["predict", "--checkpoint", str(out), "--task", "pair", "--data", str(subset),
                                       "--output", str(pred_file), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    predicted = json.loads(pred_file.read_text())
    evaluated = json.loads((out / "scores" / "pair_dev.epoch1.json").read_text())
    assert predicted["predictions"] == evaluated["predictions"]
    assert predicted["metrics"]["accuracy"] == pytest.approx(evaluated["metrics"]["accuracy"])


def test_strip_writes_an_encoder_that_loads_with_automodel(trained, tmp_path):
    from transformers import AutoModel

    out, _, _ = trained
    result = CliRunner().invoke(main, ["strip", str(out), str(tmp_path / "enc")])
    assert result.exit_code == 0, result.output
    encoder = AutoModel.from_pretrained(tmp_path / "enc")
    saved = load_file(out / json.loads((out / "latest.json").read_text())["checkpoint"] / "model.safetensors")
    assert torch.equal(encoder.embeddings.word_embeddings.weight, saved["encoder.embeddings.word_embeddings.weight"])


@pytest.mark.parametrize("workers", [0, 2])
def test_resume_ends_exactly_where_an_uninterrupted_run_does(tiny_train_config, tmp_path, workers):
    task_def, data = write_tiny_tasks(tmp_path / "tasks", rows=64)
    common = dict(task_def=[str(task_def)], data_dir=str(data), tasks=["pair", "reg"], epochs=2, max_train_samples=64,
                  max_eval_samples=16, save_every=3, batch_size=8, grad_accumulation=2, num_workers=workers,
                  cache_dir=str(tmp_path / "cache"))
    full = Trainer(tiny_train_config(output_dir=str(tmp_path / "full"), **common), make_host(), progress=False)
    full.train()
    interrupted_dir = str(tmp_path / "cut")
    cut = Trainer(tiny_train_config(output_dir=interrupted_dir, **common), make_host(interrupt_at(5)), progress=False)
    with pytest.raises(Interrupt):
        cut.train()
    resumed = Trainer(tiny_train_config(output_dir=interrupted_dir, **common), make_host(), progress=False)
    resumed.train(resume=interrupted_dir)  # resumes from step 3, mid-epoch
    assert resumed.step == full.step == 16
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert full.optimizer.state_dict()["state"][0]["exp_avg"].equal(resumed.optimizer.state_dict()["state"][0]["exp_avg"])


def test_nan_losses_are_skipped_and_counted(tiny_train_config, glue_dir, tmp_path):
    config = tiny_train_config(task_def=[nan_loss_task_file(tmp_path)], data_dir=str(glue_dir / "RTE"), tasks=["rte"],
                               max_train_samples=48, max_eval_samples=8)
    canonical = tmp_path / "canon"
    canonical.mkdir()
    rows = [line.split("\t") for line in (glue_dir / "RTE" / "train.tsv").read_text().splitlines()[1:49]]
    (canonical / "rte_train.tsv").write_text("".join(f"{i}\t{label}\t{a}\t{b}\n" for i, a, b, label in rows))
    # the host-checked path (an optimizer without a fused kernel); tests/test_step_sync.py has the device-checked one
    config = config.model_copy(update={"data_dir": str(canonical), "optimizer_config": {"fused": False}})
    trainer = Trainer(config, make_host(nan_loss_plugin({2, 3})), progress=False)
    summary = trainer.train()
    assert summary["nonfinite_skipped"] == 2 and trainer.step == 4  # 6 batches, 2 skipped
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())

    always = Trainer(config.model_copy(update={"max_nonfinite_in_row": 3, "output_dir": str(tmp_path / "b")}),
                     make_host(nan_loss_plugin(set(range(1, 100)))), progress=False)
    with pytest.raises(TrainingDiverged, match="3 non-finite loss values in a row.*lower --lr"):
        always.train()


def test_cli_reports_bad_input_without_traceback(tmp_path, tiny_tasks):
    task_def, data = tiny_tasks
    runner = CliRunner()
    train = ["train", "--task-def", str(task_def), "--output-dir", str(tmp_path / "o")]
    result = runner.invoke(main, [*train, "--data-dir", str(data), "--tasks", "pair,pari", *TINY])
    assert result.exit_code == 2 and "no task 'pari'; did you mean 'pair'?" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(main, [*train, "--data-dir", str(tmp_path / "empty"), "--tasks", "pair", *TINY])
    assert result.exit_code == 2 and "no training file" in result.output
    result = runner.invoke(main, [*train, "--data-dir", str(data), "--tasks", "pair", "--optimizer", "adam", *TINY])
    assert result.exit_code == 2 and "no optimizer 'adam'; did you mean" in result.output


def test_observer_hooks_see_steps_and_evaluations(tiny_train_config, tmp_path):
    seen = {"steps": [], "evals": [], "states": []}
    plugin = types.ModuleType("observer")
    plugin.on_step_end = hookimpl(lambda state: (seen["steps"].append(state["step"]), seen["states"].append(state)))
    plugin.on_evaluate = hookimpl(lambda dataset, epoch, metrics: seen["evals"].append((dataset, epoch, metrics)))
    task_def, data = write_tiny_tasks(tmp_path / "tasks", test=True)
    config = tiny_train_config(task_def=[str(task_def)], data_dir=str(data), tasks=["pair"], max_train_samples=32,
                               max_eval_samples=16)
    Trainer(config, make_host(plugin), progress=False).train()
    assert seen["steps"] == [1, 2, 3, 4]
    last = seen["states"][-1]
    assert last["task"] == "pair" and last["epoch"] == 0 and last["lr"] == pytest.approx(0.0)  # linear decay ends at 0
    assert all(s["grad_norm"] > 0 and s["loss"] > 0 for s in seen["states"])
    assert [(d, e) for d, e, _ in seen["evals"]] == [("pair_dev", 0), ("pair_test", 0)]
    assert "accuracy" in seen["evals"][0][2] and seen["evals"][1][2] == {}


def test_prepro_fills_the_cache_that_train_reads(tmp_path):
    task_def, data = write_tiny_tasks(tmp_path / "tasks", rows=50, test=True)
    runner = CliRunner()
    cache = tmp_path / "cache"
    result = runner.invoke(main, ["prepro", "--task-def", str(task_def), "--tasks", "pair", "--data-dir", str(data),
                                  "--encoder", "tiny-random-bert", "--max-seq-len", "64", "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    assert "pair_train" in result.output and "50 rows" in result.output
    before = sorted(p.parent.name for p in cache.glob("*/meta.json"))
    assert len(before) == 3  # train, dev, test
    result = runner.invoke(main, ["train", "--task-def", str(task_def), "--data-dir", str(data), "--tasks", "pair",
                                  "--cache-dir", str(cache), "--epochs", "0",
                                  "--output-dir", str(tmp_path / "o"), *TINY])
    assert result.exit_code == 0, result.output
    assert sorted(p.parent.name for p in cache.glob("*/meta.json")) == before  # nothing re-tokenized


def test_plugins_and_validate_commands(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["plugins"])
    assert result.exit_code == 0
    assert "core.heads (built-in)" in result.output and "core.tasks (built-in)" in result.output
    listing = json.loads(runner.invoke(main, ["plugins", "--json"]).output)
    assert "san" in next(p for p in listing if p["name"] == "core.heads")["registered"]["heads"]
    assert "mlm" in next(p for p in listing if p["name"] == "core.tasks")["registered"]["tasks"]
    bad = tmp_path / "tasks.yml"
    bad.write_text("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  loss: ce2\n"
                   "  metric_meta: [ACC, MCCC]\n  dropout: 0.1\n")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "rte.dropout: unknown key; did you mean 'dropout_p'?" in result.output
    bad.write_text("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n  loss: ce2\n"
                   "  metric_meta: [ACC, MCCC]\n")
    result = runner.invoke(main, ["validate", str(bad)])
    assert "2 problem(s)" in result.output and "no loss 'ce2'" in result.output and "did you mean 'MCC'" in result.output


def test_yaml_config_with_command_line_overrides(tmp_path, tiny_tasks, monkeypatch):
    task_def, data = tiny_tasks
    package = tmp_path / "src" / "yamlplugins"
    package.mkdir(parents=True)
    for name in ("__init__", "first", "second"):
        (package / f"{name}.py").write_text("")
    monkeypatch.syspath_prepend(str(package.parent))
    run = tmp_path / "run.yml"
    run.write_text(f"tasks: [pair]\nplugins: [yamlplugins.first]\ntask_def: [{task_def}]\ndata_dir: {data}\n"
                   f"encoder: tiny-random-bert\nepochs: 3\nmax_seq_len: 32\nmax_eval_samples: 4\noutput_dir: {tmp_path / 'out'}\n")
    result = CliRunner().invoke(main, ["train", "--config", str(run), "--epochs", "0", "--plugin", "yamlplugins.second",
                                       "--set", "sampler=temperature", "--no-progress"])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["epochs"] == 0 and saved["plugins"] == ["yamlplugins.first", "yamlplugins.second"]
    assert saved["sampler"] == "temperature" and saved["max_seq_len"] == 32
    run.write_text("tasks: [pair]\nepoch: 3\n")
    result = CliRunner().invoke(main, ["train", "--config", str(run)])
    assert result.exit_code == 2 and f"{run}:2: epoch: unknown key; did you mean 'epochs'?" in result.output


def test_validate_checks_a_training_config_against_the_plugins(tmp_path, tiny_tasks):
    run = tmp_path / "run.yml"
    run.write_text(f"tasks: [pair, pari]\ntask_def: [{tiny_tasks[0]}]\noptimizer: adamm\nsampler: proportional\n")
    result = CliRunner().invoke(main, ["validate", str(run)])
    assert result.exit_code == 2
    assert "optimizer: no optimizer 'adamm'; did you mean" in result.output
    assert "no task 'pari'; did you mean 'pair'?" in result.output
