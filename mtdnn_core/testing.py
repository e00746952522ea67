"""pytest fixtures for plugin authors (installed as a pytest plugin with mtdnn-core).

* ``mtdnn_host(*plugins)``: a fresh, strict plugin host with the built-ins and the given plugin
  objects (modules or instances with ``@hookimpl`` functions) and no installed entry points,
  so a test never depends on what happens to be installed.
* ``tiny_train_config(**overrides)``: a :class:`TrainConfig` for a few CPU steps with the tiny
  random encoder.
"""
from __future__ import annotations

from typing import Any

import pytest


def make_host(*plugins: Any, entry_points: tuple[str, ...] = ()):
    from mtdnn_core.plugins import PluginHost

    host = PluginHost(list(entry_points), strict=True)
    for i, plugin in enumerate(plugins):
        host.add_plugin(plugin, name=getattr(plugin, "__name__", f"test-plugin-{i}"))
    return host


@pytest.fixture
def mtdnn_host():
    return make_host


@pytest.fixture
def tiny_train_config(tmp_path):
    from mtdnn_core.config import TrainConfig

    def build(**overrides: Any) -> TrainConfig:
        base = dict(encoder="tiny-random-bert", output_dir=str(tmp_path / "run"), epochs=1, batch_size=8,
                    eval_batch_size=32, max_seq_len=64, lr=1e-3, num_threads=2, device="cpu")
        base.update(overrides)
        return TrainConfig(**base)

    return build


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """The uncased WordPiece tokenizer of the tiny random encoder (offline)."""
    from mtdnn_core.model.encoder import load_tiny_random_bert

    return load_tiny_random_bert()[1]
