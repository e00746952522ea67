"""A run that stops early keeps its checkpoint and says how to continue: a failing reporter,
Ctrl-C; a --metric-for-best the run will never compute is refused before anything loads."""
import importlib
import json
import shlex
import sys

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main

# every task file row of the workspace is 2 rows: with --batch-size 8 one update per epoch
REPORTER = """\
from pathlib import Path

from mtdnn_core import hookimpl


class Boom:
    def __init__(self, run):
        self.flag = Path(run.output_dir).parent / "boom.flag"

    @hookimpl
    def on_step_end(self, state):
        if state["step"] == 2 and self.flag.exists():
            raise RuntimeError("reporter backend unreachable")


@hookimpl
def register_reporters(registry):
    registry.add("boom", Boom)
"""
CTRL_C = """\
from pathlib import Path

from mtdnn_core import hookimpl

PRESSED = Path(__file__).with_suffix(".pressed")  # Ctrl-C once: the resumed run loads this plugin again


@hookimpl
def on_step_end(state):
    if state["step"] == 2 and not PRESSED.exists():
        PRESSED.touch()
        raise KeyboardInterrupt
"""


@pytest.fixture
def module(tmp_path, monkeypatch):
    """``write(name, source)``: the module ``stopplugins.NAME``, for ``--plugin stopplugins.NAME``."""
    package = tmp_path / "src" / "stopplugins"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(package.parent))
    for name in [m for m in sys.modules if m.split(".")[0] == "stopplugins"]:  # another test's package
        monkeypatch.delitem(sys.modules, name)
    importlib.invalidate_caches()

    def write(name: str, source: str) -> str:
        (package / f"{name}.py").write_text(source)
        return f"stopplugins.{name}"

    return write


def _resume_args(output: str) -> list[str]:
    command = output.split("resume with: ", 1)[1].splitlines()[0]
    args = shlex.split(command)
    assert args[0] == "mtdnn"
    return args[1:]


def _checkpoints(run):
    return sorted(p.name for p in run.glob("checkpoint-*"))


def test_a_failing_reporter_leaves_a_checkpoint_and_the_resume_command(ws, module):
    (ws.root / "boom.flag").write_text("")
    plugin = module("boom", REPORTER)
    ws.run_existed = True  # the run directory is kept, with its checkpoints
    args = ws.train("pair", "--plugin", plugin, "--epochs", "3", "--report-to", "jsonl,boom")
    output = ws.fails(args, "reporter:boom failed in on_step_end", "RuntimeError: reporter backend unreachable",
                      f"checkpoint saved: {ws.out / 'checkpoint-0000002'}", "resume with: mtdnn train")
    # update 2 was made: its checkpoint is written although the epoch's own save never came
    assert _checkpoints(ws.out) == ["checkpoint-0000001", "checkpoint-0000002"]
    assert json.loads((ws.out / "latest.json").read_text())["checkpoint"] == "checkpoint-0000002"
    (ws.root / "boom.flag").unlink()  # the reporter is fixed
    resumed = CliRunner().invoke(main, _resume_args(output))
    assert resumed.exit_code == 0, resumed.output
    assert "finished: 3 updates" in resumed.output


def test_ctrl_c_says_where_the_last_checkpoint_is_and_how_to_resume(ws, module):
    plugin = module("ctrlc", CTRL_C)
    ws.run_existed = True
    args = ws.train("pair", "--plugin", plugin, "--epochs", "3")
    output = ws.fails(args, "interrupted at update 2", f"last checkpoint: {ws.out / 'checkpoint-0000001'} (update 1)",
                      f"--resume {ws.out}", code=130)
    assert "Aborted" not in output
    resume = _resume_args(output)
    assert resume[: len(args)] == [str(a) for a in args] and resume[len(args):] == ["--resume", str(ws.out)]
    resumed = CliRunner().invoke(main, resume)  # the printed command, as it is
    assert resumed.exit_code == 0, resumed.output
    assert "finished: 3 updates" in resumed.output


def test_ctrl_c_before_any_checkpoint_says_how_to_start_again(ws, module):
    plugin = module("ctrlc_first", CTRL_C.replace('state["step"] == 2', 'state["step"] == 1'))
    ws.run_existed = True  # the run's first files are there (config.json, log.jsonl)
    args = ws.train("pair", "--plugin", plugin, "--epochs", "3", "--save-every", "100")
    output = ws.fails(args, "interrupted at update 1", "no checkpoint was written yet; start again with: mtdnn train", code=130)
    command = shlex.split(output.split("start again with: ", 1)[1].splitlines()[0])
    assert command[0] == "mtdnn" and command[-1] == "--overwrite"  # the run's first files are in the way
    again = CliRunner().invoke(main, command[1:])  # the printed command, as it is
    assert again.exit_code == 0, again.output
    assert "finished: 3 updates" in again.output


@pytest.mark.parametrize("spec, expected", [
    ("pair:f1", ["'pair' does not compute 'f1'", "its metrics: accuracy", "e.g. pair:accuracy"]),
    ("pair:acuracy", ["does not compute 'acuracy'", "did you mean 'accuracy'"]),
    ("pair_test:accuracy", ["'pair_test' is not a dev/test set of this run", "did you mean 'pair_dev'", "scored: pair_dev"]),
    ("pari:accuracy", ["'pari' is not one of the run's tasks", "did you mean 'pair'"]),
])
def test_metric_for_best_that_the_run_does_not_compute(ws, spec, expected):
    ws.fails(ws.train("pair", "--metric-for-best", spec), "metric_for_best", *expected)
    assert not ws.out.exists()


def test_metric_for_best_of_a_task_without_a_dev_set(ws):
    (ws.data / "pair_dev.tsv").unlink()
    ws.fails(ws.train("pair,single", "--metric-for-best", "pair:accuracy"), "scores no dev/test set of task 'pair'")
    ws.fails(ws.train("pair,single", "--metric-for-best", "mean"), "'mean' needs a dev/test set of every task; none for pair")


BAD_REPORTERS = """\
from mtdnn_core import hookimpl


class CannotStart:
    def __init__(self, run):
        raise ConnectionError("no tracking server at localhost:5000")


class CannotClose:
    def __init__(self, run):
        pass

    def close(self):
        raise OSError("disk full while flushing")


@hookimpl
def register_reporters(registry):
    registry.add("cannot_start", CannotStart)
    registry.add("cannot_close", CannotClose)
"""


def test_a_reporter_that_cannot_be_built_fails_before_training(ws, module):
    plugin = module("badreporters", BAD_REPORTERS)
    ws.fails(ws.train("pair", "--plugin", plugin, "--report-to", "jsonl,cannot_start"),
             f"{plugin}: reporter 'cannot_start' could not be built", "ConnectionError: no tracking server")
    assert not ws.out.exists()


def test_a_reporter_that_fails_to_close_is_named_after_the_run_is_saved(ws, module):
    plugin = module("badreporters", BAD_REPORTERS)
    ws.run_existed = True
    ws.fails(ws.train("pair", "--plugin", plugin, "--report-to", "jsonl,cannot_close"),
             "reporter:cannot_close failed in close", "OSError: disk full while flushing",
             f"last checkpoint: {ws.out / 'checkpoint-0000001'} (update 1)")
    assert (ws.out / "summary.json").is_file() and _checkpoints(ws.out) == ["checkpoint-0000001"]


def test_a_reporter_hook_with_a_wrong_argument_name(ws, module):
    plugin = module("misnamed", "from mtdnn_core import hookimpl\n\n\nclass Misnamed:\n"
                                "    def __init__(self, run):\n        pass\n\n"
                                "    @hookimpl\n    def on_step_end(self, stat):\n        pass\n\n\n"
                                "@hookimpl\ndef register_reporters(registry):\n    registry.add('misnamed', Misnamed)\n")
    ws.fails(ws.train("pair", "--plugin", plugin, "--report-to", "misnamed"), "reporter:misnamed", "on_step_end", "stat")
    assert not (ws.out / "log.jsonl").exists() and not list(ws.out.glob("checkpoint-*"))


def test_ctrl_c_while_the_run_is_prepared_says_to_start_again(ws, monkeypatch):
    import mtdnn_core.training.trainer as trainer_module

    def pressed(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C while the encoder loads

    monkeypatch.setattr(trainer_module, "build_encoder", pressed)
    args = ws.train("pair")
    output = ws.fails(args, "interrupted before training started; start again with: mtdnn train", code=130)
    assert "Aborted" not in output
    monkeypatch.undo()
    command = shlex.split(output.split("start again with: ", 1)[1].splitlines()[0])
    again = CliRunner().invoke(main, command[1:])  # the printed command, as it is
    assert again.exit_code == 0, again.output
