"""Helpers for the bad-input corpus: run a CLI command and check how it fails."""
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--batch-size", "8", "--num-threads", "2",
        "--device", "cpu", "--no-progress", "--epochs", "1"]
TASKS = """\
pair:
  data_format: PremiseAndOneHypothesis
  task_type: Classification
  labels: ['no', 'yes']
single:
  data_format: PremiseOnly
  task_type: Classification
reg:
  data_format: PremiseAndOneHypothesis
  task_type: Regression
seq:
  data_format: Sequence
  task_type: SequenceLabeling
  labels: [O, B-PER, I-PER]
rank:
  data_format: PremiseAndMultiHypothesis
  task_type: Ranking
"""
GOOD = {
    "pair": "1\tyes\ta man sleeps\tsomeone sleeps\n2\tno\ta dog runs\ta cat sits\n",
    "single": "1\t1\tgood film\n2\t0\tbad film\n",
    "reg": "1\t4.5\ta man sleeps\tsomeone sleeps\n2\t0.5\ta dog runs\ta cat sits\n",
    "seq": "1\tB-PER I-PER O\tJohn Smith ran\n2\tO O\tgo home\n",
    "rank": "1\tc1,c2\tc2\twho ran?\tnobody\tJohn ran\n2\ta,b\t0\twhat?\tthis\tthat\n",
}
RUN_FILES = ("log.jsonl", "metrics.json", "latest.json", "summary.json")


def write(path: Path, text, binary: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if binary:
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


class Workspace:
    """A task file and canonical data in a temporary directory, and a way to run the CLI."""

    def __init__(self, root: Path):
        self.root = root
        self.tasks = write(root / "tasks.yml", TASKS)
        self.data = root / "data"
        for task, rows in GOOD.items():
            write(self.data / f"{task}_train.tsv", rows)
            write(self.data / f"{task}_dev.tsv", rows)
        self.out = root / "run"

    write = staticmethod(write)

    @staticmethod
    def checkpoint_of(run: Path) -> Path:
        return checkpoint_of(run)

    def train(self, task: str, *extra: str) -> list[str]:
        return ["train", "--task-def", str(self.tasks), "--data-dir", str(self.data), "--tasks", task,
                "--output-dir", str(self.out), *TINY, *extra]

    def fails(self, args: list[str], *expected: str, code: int = 2) -> str:
        """Run ``mtdnn ARGS``; it must exit with ``code``, print no traceback, say every
        ``expected`` piece (file, line, key...), and leave no half-written run behind."""
        result = CliRunner().invoke(main, [str(a) for a in args])
        output = result.output
        assert result.exit_code == code, f"exit {result.exit_code}, expected {code}:\n{output}\n{result.exception!r}"
        assert "Traceback" not in output, output
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        for piece in expected:
            assert str(piece) in output, f"{piece!r} not in:\n{output}"
        if self.out.is_dir() and not getattr(self, "run_existed", False):
            leftovers = [name for name in RUN_FILES if (self.out / name).exists()] + [p.name for p in self.out.glob("checkpoint-*")]
            assert leftovers == [], leftovers
        return output


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> Path:
    """A tiny finished run (two tasks) to damage copies of."""
    root = tmp_path_factory.mktemp("finished")
    space = Workspace(root)
    result = CliRunner().invoke(main, space.train("pair,reg", "--save-every", "1"))
    assert result.exit_code == 0, result.output
    return space.out


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(finished_run, target)
    return target


def checkpoint_of(run: Path) -> Path:
    return run / json.loads((run / "latest.json").read_text())["checkpoint"]
