"""The plugin guide's reporter example, run against a stand-in for wandb."""
import importlib.machinery
import importlib.util
import sys
import types
from pathlib import Path

from mtdnn_core.testing import make_host
from mtdnn_core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "reporters" / "wandb_reporter.py"


def test_the_plugin_guide_shows_the_example_as_it_is():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    body = EXAMPLE.read_text().split('"""', 2)[2].strip()  # without the module docstring
    assert body in guide


def test_wandb_reporter_example_logs_every_update_and_evaluation(tiny_train_config, tiny_tasks, monkeypatch):
    logged, finished = [], []

    class Run:
        def log(self, values, step):
            logged.append((step, values))

        def finish(self):
            finished.append(True)

    fake = types.ModuleType("wandb")
    fake.__spec__ = importlib.machinery.ModuleSpec("wandb", None)
    fake.init = lambda **kwargs: Run()
    monkeypatch.setitem(sys.modules, "wandb", fake)
    spec = importlib.util.spec_from_file_location("wandb_reporter", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    task_def, data = tiny_tasks
    config = tiny_train_config(task_def=[str(task_def)], data_dir=str(data), tasks=["pair"], max_train_samples=16,
                               max_eval_samples=8, max_seq_len=32, batch_size=8, report_to=["wandb"])
    summary = Trainer(config, make_host(module), progress=False).train()
    steps = [step for step, values in logged if "train/loss" in values]
    assert steps == [1, 2] and finished == [True]
    assert (2, {"pair_dev/accuracy": summary["history"][-1]["metrics"]["pair_dev"]["accuracy"]}) in logged
