"""``mtdnn train --resume RUN`` alone continues the run with its own configuration and plugins,
exactly; options given with it may change only what does not alter the remaining steps."""
import importlib
import json
import sys

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from mtdnn_core.cli import main

STOPPER = """\
import os

from mtdnn_core import hookimpl
from mtdnn_core.testing import Interrupt

STEPS = []


@hookimpl
def on_step_end(state):
    STEPS.append(state.step)
    if str(state.step) == os.environ.get("STOP_AFTER_UPDATE"):
        raise Interrupt
"""


@pytest.fixture
def stopper(tmp_path, monkeypatch):
    """A plugin module on sys.path that records every update and stops the run (a Ctrl-C)
    after update ``$STOP_AFTER_UPDATE``."""
    package = tmp_path / "src" / "stopperpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "hooks.py").write_text(STOPPER)
    monkeypatch.syspath_prepend(str(package.parent))
    for name in ("stopperpkg", "stopperpkg.hooks"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    importlib.invalidate_caches()
    return importlib.import_module("stopperpkg.hooks")


def train_args(task_file, data, out):
    return ["train", "--plugin", "stopperpkg.hooks", "--task-def", str(task_file), "--data-dir", str(data),
            "--tasks", "pair,reg", "--encoder", "tiny-random-bert", "--max-seq-len", "32", "--batch-size", "8",
            "--epochs", "2", "--max-train-samples", "24", "--max-eval-samples", "8", "--save-every", "4",
            "--lr", "1e-3", "--seed", "7", "--num-threads", "2", "--device", "cpu", "--no-progress",
            "--output-dir", str(out)]


def final_weights(run):
    latest = json.loads((run / "latest.json").read_text())["checkpoint"]
    return load_file(run / latest / "model.safetensors")


def snapshot(run):
    return {p.relative_to(run): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(run.rglob("*")) if p.is_file()}


def test_resume_alone_ends_bitwise_where_an_uninterrupted_run_does(tiny_tasks, tmp_path, stopper, monkeypatch):
    task_file, data = tiny_tasks
    runner = CliRunner()
    full = runner.invoke(main, train_args(task_file, data, tmp_path / "full"))
    assert full.exit_code == 0, full.output
    total = max(stopper.STEPS)
    assert total == 12  # 2 epochs x (24 + 24 rows) / 8 per batch

    monkeypatch.setenv("STOP_AFTER_UPDATE", "6")  # checkpoint at update 4, stopped after 6
    cut = runner.invoke(main, train_args(task_file, data, tmp_path / "cut"))
    assert cut.exit_code == 130 and "interrupted at update 6" in cut.output, cut.output
    monkeypatch.delenv("STOP_AFTER_UPDATE")
    assert json.loads((tmp_path / "cut" / "latest.json").read_text())["checkpoint"] == "checkpoint-0000004"

    stopper.STEPS.clear()
    resumed = runner.invoke(main, ["train", "--resume", str(tmp_path / "cut"), "--no-progress"])
    assert resumed.exit_code == 0, resumed.output
    assert stopper.STEPS == list(range(5, total + 1))  # the run's plugin loaded again; updates 5.. replayed from 4
    saved = json.loads((tmp_path / "cut" / "config.json").read_text())
    assert saved["tasks"] == ["pair", "reg"] and saved["lr"] == 1e-3 and saved["seed"] == 7
    a, b = final_weights(tmp_path / "full"), final_weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_resume_alone_refuses_a_change_that_alters_the_run(tiny_tasks, tmp_path, stopper):
    task_file, data = tiny_tasks
    run = tmp_path / "run"
    args = train_args(task_file, data, run)
    args[args.index("--epochs") + 1] = "1"
    assert CliRunner().invoke(main, args).exit_code == 0
    before = snapshot(run)
    result = CliRunner().invoke(main, ["train", "--resume", str(run), "--lr", "1", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "lr: 0.001 -> 1.0" in result.output and "--resume" in result.output
    assert "Traceback" not in result.output
    assert snapshot(run) == before  # the run is left as it was

    allowed = CliRunner().invoke(main, ["train", "--resume", str(run), "--eval-every", "3", "--no-progress"])
    assert allowed.exit_code == 0, allowed.output  # bookkeeping may change


def test_resume_of_something_that_is_no_run_names_it(tmp_path):
    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path)])
    assert result.exit_code == 2 and str(tmp_path) in result.output and "Traceback" not in result.output
    assert "tasks" not in result.output  # not the complaint about a missing --tasks
