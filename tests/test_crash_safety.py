"""SIGKILL at several points of a run, then --resume: the final weights equal an uninterrupted
run's, bit for bit, and no checkpoint is ever left unusable.

Kill points: mid-epoch between checkpoints; inside a checkpoint write (weights half written);
after a new checkpoint is in place but before latest.json names it; at the final save at
--max-steps (a multiple of --save-every, once saved twice); and twice in a row, the second time
while a checkpoint of the same step replaces the one left by the first kill.
"""
import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from mtdnn_core.testing import write_tiny_tasks

KILLER = '''
"""Kills its own process at the point KILL_AT names: step:N, save_model:N (the Nth checkpoint
weights file, just written), latest:N (the Nth latest.json update, the new checkpoint in place)."""
import os
import signal

from mtdnn_core import hookimpl
from mtdnn_core.training import checkpoint

kind, _, n = os.environ.get("KILL_AT", "").partition(":")
calls = {"save_model": 0, "latest": 0}


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _counting(name, real, after):
    def wrapped(*args, **kwargs):
        calls[name] += 1
        if kind == name and calls[name] == int(n) and not after:
            _die()
        result = real(*args, **kwargs)
        if kind == name and calls[name] == int(n) and after:
            _die()
        return result
    return wrapped


checkpoint.save_model = _counting("save_model", checkpoint.save_model, after=True)
checkpoint.atomic_write_json = _counting("latest", checkpoint.atomic_write_json, after=False)


@hookimpl
def on_step_end(state):
    if kind == "step" and state["step"] == int(n):
        _die()
'''


pytestmark = pytest.mark.slow  # each case trains in two or three subprocesses


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    (root / "killerpkg").mkdir()
    (root / "killerpkg" / "__init__.py").write_text("")
    (root / "killerpkg" / "killer.py").write_text(KILLER)
    task_def, data = write_tiny_tasks(root / "tasks")
    args = ["train", "--task-def", str(task_def), "--plugin", "killerpkg.killer", "--data-dir", str(data), "--tasks", "pair,reg",
            "--encoder", "tiny-random-bert", "--max-seq-len", "32", "--batch-size", "8", "--max-train-samples", "48",
            "--max-eval-samples", "8", "--epochs", "2", "--save-every", "4", "--max-steps", "20", "--lr", "1e-3",
            "--num-threads", "1", "--device", "cpu", "--no-progress", "--cache-dir", str(root / "cache")]
    env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "HF_HUB_OFFLINE": "1"}
    return root, args, env


def run(setup, out, kill=None, resume=False):
    root, args, env = setup
    env = {**env, "KILL_AT": kill or ""}
    command = [sys.executable, "-m", "mtdnn_core.cli", *args, "--output-dir", str(out)]
    if resume:
        command += ["--resume", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def final_weights(out):
    latest = json.loads((out / "latest.json").read_text())
    assert latest["step"] == 20
    return load_file(out / latest["checkpoint"] / "model.safetensors")


@pytest.fixture(scope="module")
def uninterrupted(setup):
    out = setup[0] / "full"
    result = run(setup, out)
    assert result.returncode == 0, result.stderr
    return final_weights(out)


@pytest.mark.parametrize("kills", [["step:6"], ["save_model:2"], ["latest:2"], ["save_model:5"], ["latest:2", "latest:1"]],
                         ids=["mid-epoch", "inside-weights-write", "before-latest-update", "final-save-at-max-steps",
                              "twice-then-replacing-the-same-step"])
def test_resume_after_sigkill_is_bitwise_exact(setup, uninterrupted, kills):
    out = setup[0] / "-".join(kills).replace(":", "")
    for i, kill in enumerate(kills):
        result = run(setup, out, kill=kill, resume=i > 0)
        assert result.returncode == -signal.SIGKILL, (kill, result.returncode, result.stderr[-2000:])
    result = run(setup, out, resume=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    resumed = final_weights(out)
    assert resumed.keys() == uninterrupted.keys()
    for name, tensor in uninterrupted.items():
        assert torch.equal(tensor, resumed[name]), name
    assert not list(out.glob(".checkpoint-*")), "stale temporary checkpoints are removed"
    steps = [json.loads(line)["step"] for line in (out / "log.jsonl").read_text().splitlines()
             if json.loads(line).get("event") == "train"]
    assert steps == sorted(set(steps)), "each step is logged once"
