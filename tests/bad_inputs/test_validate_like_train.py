"""``mtdnn validate`` with train's arguments plans the run as ``mtdnn train`` does: every
config-level mistake train refuses, validate refuses with the same message, without loading a
model or writing anything."""
import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main

from .conftest import TASKS

BAD_TASKS = TASKS + """\
headless:
  data_format: PremiseOnly
  task_type: Classification
  head: no_such_head
lossy:
  data_format: PremiseOnly
  task_type: Classification
  loss: ce2
mismatch:
  data_format: Sequence
  task_type: Classification
"""

# (name, task(s), extra train options, a piece of the message written by hand)
CASES = [
    ("unknown task", "pari", [], "no task 'pari'"),
    ("unknown head", "headless", [], "no_such_head"),
    ("bad loss", "lossy", [], "ce2"),
    ("format/type pairing", "mismatch", [], "Sequence"),
    ("bad metric-for-best", "pair", ["--metric-for-best", "pair:nosuchmetric"], "nosuchmetric"),
    ("metric-for-best of another task", "pair", ["--metric-for-best", "single:accuracy"], "single"),
    ("missing training file", "pair", ["--data-dir", "pair=EMPTY"], "no training file"),
    ("unknown optimizer", "pair", ["--optimizer", "adamm"], "optimizer: no optimizer 'adamm'"),
    ("bad regularizer params", "pair", ["--set", "regularizers=[{name: l2sp, params: {alpha: -1}}]"], "alpha"),
    ("unknown regularizer", "pair", ["--set", "regularizers=[{name: l2spp}]"], "l2spp"),
    ("--fsdp without torchrun", "pair", ["--fsdp"], "--fsdp"),
    ("--fsdp with --compile", "pair", ["--fsdp", "--compile"], "--compile"),
    ("bad sampler config", "pair", ["--set", "sampler_config={no_such_key: 1}"], "no_such_key"),
    ("two problems at once", "pari", ["--optimizer", "adamm"], "no optimizer 'adamm'"),
]


def _args(ws, task, extra):
    (ws.root / "empty").mkdir(exist_ok=True)
    extra = [a.replace("EMPTY", str(ws.root / "empty")) for a in extra]
    return ws.train(task, *extra)


@pytest.mark.parametrize("name,task,extra,piece", CASES, ids=[c[0] for c in CASES])
def test_validate_refuses_what_train_refuses(ws, name, task, extra, piece):
    ws.write(ws.tasks, BAD_TASKS)
    train_args = _args(ws, task, extra)
    before = sorted(p.relative_to(ws.root) for p in ws.root.rglob("*"))
    validate_args = ["validate", *[a for a in train_args[1:] if a != "--no-progress"]]
    validated = CliRunner().invoke(main, validate_args)
    assert sorted(p.relative_to(ws.root) for p in ws.root.rglob("*")) == before  # validate writes nothing
    trained = ws.fails(train_args, piece)
    assert validated.exit_code == 2, validated.output
    assert "Traceback" not in validated.output
    assert piece in validated.output
    assert validated.output == trained


def test_validate_passes_what_train_accepts(ws):
    result = CliRunner().invoke(main, ["validate", *[a for a in ws.train("pair,reg")[1:] if a != "--no-progress"]])
    assert result.exit_code == 0, result.output
    assert "tasks pair, reg" in result.output and "pair_dev" in result.output and "reg_dev" in result.output
    assert not ws.out.exists()


def test_validate_config_file_with_options(ws):
    run = ws.write(ws.root / "run.yml", f"tasks: [pair]\ntask_def: [{ws.tasks}]\nencoder: tiny-random-bert\n"
                                        f"metric_for_best: pair:accuracy\n")
    ok = CliRunner().invoke(main, ["validate", "--config", str(run), "--data-dir", str(ws.data)])
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(main, ["validate", "--config", str(run), "--data-dir", str(ws.data),
                                    "--metric-for-best", "pair:f1"])
    assert bad.exit_code == 2 and "pair:f1" in bad.output and "Traceback" not in bad.output


def test_validate_without_files_or_run_is_a_usage_error():
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2 and "--config" in result.output
