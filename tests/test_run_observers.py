"""A run seen from outside: reporters get every number, TensorBoard files read back, the best
checkpoint is kept and early stopping ends a run, the weight average is what gets evaluated."""
import json
import types

import pytest
import torch
from click.testing import CliRunner

from mtdnn_core import hookimpl
from mtdnn_core.cli import main
from mtdnn_core.testing import make_host
from mtdnn_core.training.trainer import Trainer

SMALL = dict(tasks=["pair", "reg"], max_train_samples=16, max_eval_samples=16, batch_size=8,
             max_seq_len=32, epochs=2, eval_every=3, log_every=2)  # 4 updates per epoch


def files(tiny_tasks):
    """The settings naming the tiny tasks' definitions and data."""
    task_def, data = tiny_tasks
    return dict(task_def=[str(task_def)], data_dir=str(data))


def collecting_plugin(seen):
    class Collect:
        def __init__(self, run):
            seen["run_dir"] = run.output_dir

        @hookimpl
        def on_train_begin(self, run):
            seen.setdefault("begin", []).append(run.step)

        @hookimpl
        def on_step_end(self, state):
            seen.setdefault("steps", []).append(state.step)
            seen.setdefault("losses", []).append(state.loss)

        @hookimpl
        def on_log(self, record):
            seen.setdefault("records", []).append(record.data)

        @hookimpl
        def on_evaluate(self, dataset, epoch, step, metrics):
            seen.setdefault("evals", []).append((step, dataset, metrics))

        @hookimpl
        def on_train_end(self, summary):
            seen["end"] = summary.step

        def close(self):
            seen["closed"] = True

    plugin = types.ModuleType("collector")
    plugin.register_reporters = hookimpl(lambda registry: registry.add("collect", Collect))
    return plugin


def test_reporters_receive_every_scalar_and_tensorboard_reads_back(tiny_train_config, tiny_tasks, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    seen = {}
    config = tiny_train_config(**files(tiny_tasks), report_to=["jsonl", "collect", "tensorboard"], **SMALL)
    summary = Trainer(config, make_host(collecting_plugin(seen)), progress=False).train()
    out = tmp_path / "run"
    assert seen["begin"] == [0] and seen["end"] == summary["step"] == 8 and seen["closed"]
    assert seen["steps"] == list(range(1, 9))  # every update
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert seen["records"] == log  # every record of the log, nothing else
    train = [r for r in log if r["event"] == "train"]
    assert set(train[0]["task_loss"]) <= {"pair", "reg"} and train[0]["task_loss"]
    history = json.loads((out / "metrics.json").read_text())
    expected = [(h["step"], d, m) for h in history for d, m in h["metrics"].items()]
    assert seen["evals"] == expected  # every dataset of every evaluation
    # TensorBoard's own reader finds the same numbers, per task
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "train/lr", "train_loss/pair", "train_loss/reg", "pair_dev/accuracy", "reg_dev/pearson"} <= tags
    assert [e.step for e in events.Scalars("pair_dev/accuracy")] == [h["step"] for h in history]
    assert [e.value for e in events.Scalars("pair_dev/accuracy")] == pytest.approx(
        [h["metrics"]["pair_dev"]["accuracy"] for h in history])
    assert [e.step for e in events.Scalars("train/loss")] == list(range(1, 9))
    for task in ("pair", "reg"):  # each task's curve: the log records' per-task means
        expected = [(r["step"], r["task_loss"][task]) for r in train if task in r["task_loss"]]
        assert [(e.step, e.value) for e in events.Scalars(f"train_loss/{task}")] == [
            (step, pytest.approx(value, rel=1e-6)) for step, value in expected]


def test_observers_get_the_mean_loss_of_each_updates_micro_batches(tiny_train_config, tiny_tasks, tmp_path):
    # two micro-batches per update, a log record per update: the record's loss (the mean of the
    # batches since the previous record) is what an observer must see, not the last batch's loss
    # (which differs by up to 1.3 here)
    seen = {}
    config = tiny_train_config(**files(tiny_tasks), report_to=["jsonl", "collect"], grad_accumulation=2,
                               **{**SMALL, "log_every": 1})
    Trainer(config, make_host(collecting_plugin(seen)), progress=False).train()
    train = [json.loads(r) for r in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    train = [r for r in train if r["event"] == "train"]
    assert seen["steps"] == [r["step"] for r in train] == [1, 2, 3, 4]
    assert seen["losses"] == pytest.approx([r["loss"] for r in train], rel=1e-6)


def test_best_checkpoint_is_kept_and_predicts_like_its_evaluation(tiny_train_config, tiny_tasks, tmp_path):
    config = tiny_train_config(**files(tiny_tasks), metric_for_best="pair:accuracy", keep_checkpoints=1,
                               ema_decay=0.5, lr=5e-3, **SMALL)
    trainer = Trainer(config, make_host(), progress=False)
    summary = trainer.train()
    averaged, raw = dict(trainer.ema.model.named_parameters()), dict(trainer.model.named_parameters())
    assert averaged.keys() == raw.keys() and any(not torch.equal(averaged[n], raw[n]) for n in raw)
    assert trainer.ema.updates == trainer.step == 8
    out = tmp_path / "run"
    history = json.loads((out / "metrics.json").read_text())
    values = [h["metrics"]["pair_dev"]["accuracy"] for h in history]
    first_best = history[values.index(max(values))]
    best = json.loads((out / "best.json").read_text())
    assert best["step"] == first_best["step"] == summary["best_step"] and best["value"] == pytest.approx(max(values))
    assert (out / best["checkpoint"] / "ema.safetensors").is_file()  # never pruned, with its weight average
    data = tiny_tasks[1] / "pair_dev.tsv"
    subset = tmp_path / "pair_dev16.tsv"
    subset.write_text("".join(data.read_text().splitlines(keepends=True)[:16]))
    result = CliRunner().invoke(main, ["predict", "--checkpoint", f"{out}:best", "--task", "pair", "--data", str(subset),
                                       "--output", str(tmp_path / "pred.json"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    predicted = json.loads((tmp_path / "pred.json").read_text())
    scored = json.loads((out / "scores" / f"pair_dev.{first_best['tag']}.json").read_text())
    # the averaged weights, as evaluated
    assert torch.tensor(predicted["scores"]).allclose(torch.tensor(scored["scores"]), atol=1e-5)


def test_early_stopping_ends_a_run_that_stopped_improving(tiny_train_config, tiny_tasks, tmp_path):
    # a learning rate too small to change any prediction: no evaluation improves on the first
    config = tiny_train_config(**files(tiny_tasks), metric_for_best="mean", early_stopping=2, lr=1e-12,
                               **{**SMALL, "epochs": 5, "eval_every": 3})
    trainer = Trainer(config, make_host(), progress=False)
    summary = trainer.train()
    tags = [h["tag"] for h in summary["history"]]
    assert tags == ["step3", "epoch0", "step6"] and summary["stopped_early"] and summary["best_step"] == 3
    assert summary["step"] == 6 < trainer.total_updates == 20
    assert json.loads((tmp_path / "run" / "best.json").read_text())["step"] == 3
