"""Shared fixtures: canonical RTE and STS-B files from the real GLUE data, two tiny teacher runs
trained on them, and their soft labels (built once per session)."""
from pathlib import Path

import pytest

from mtdnn_core.testing import real_data

TRAIN_ROWS = 64
EVAL_ROWS = 48


def _train_run(out: Path, data: Path, seed: int, tasks=("rte", "stsb"), **extra):
    """Train tiny-random-bert on the first rows of ``tasks``; ``(trainer, summary)``."""
    from mtdnn_core.api import PluginHost, TrainConfig, Trainer

    plugins = ["glue", *extra.pop("plugins", [])]
    settings = dict(tasks=list(tasks), encoder="tiny-random-bert", data_dir=str(data), output_dir=str(out), plugins=plugins,
                    epochs=1, batch_size=16, eval_batch_size=64, max_seq_len=64, lr=1e-3, num_threads=1, device="cpu",
                    seed=seed, max_train_samples=TRAIN_ROWS, max_eval_samples=EVAL_ROWS, eval_splits=["dev"])
    settings.update(extra)
    trainer = Trainer(TrainConfig(**settings), PluginHost(plugins), progress=False)
    return trainer, trainer.train()


@pytest.fixture(scope="session")
def train_run():
    return _train_run


@pytest.fixture(scope="session")
def canonical(tmp_path_factory) -> Path:
    """rte_{train,dev}.tsv and stsb_{train,dev}.tsv converted from the GLUE distribution."""
    from mtdnn_glue.convert import convert_task

    out = tmp_path_factory.mktemp("canonical")
    glue = real_data("glue")  # skips the tests that need it when missing
    for task in ("rte", "stsb"):
        for split, path in convert_task(task, glue, out).items():
            if split == "test":
                path.unlink()
    return out


@pytest.fixture(scope="session")
def teachers(tmp_path_factory, canonical) -> list[Path]:
    root = tmp_path_factory.mktemp("teachers")
    runs = []
    for seed in (1, 2):
        _train_run(root / f"seed{seed}", canonical, seed)
        runs.append(root / f"seed{seed}")
    return runs


@pytest.fixture(scope="session")
def soft_dir(tmp_path_factory, canonical, teachers) -> Path:
    from mtdnn_kd.teach import TeachSettings, teach

    out = tmp_path_factory.mktemp("soft") / "soft"
    teach([str(t) for t in teachers], ["rte", "stsb"], str(canonical), {}, out,
          TeachSettings(max_train_samples=TRAIN_ROWS, max_eval_samples=EVAL_ROWS, num_threads=1), ["glue"], log=lambda _: None)
    return out
