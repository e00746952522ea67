"""The encoder, batch schedule, optimizer and learning-rate schedule a plugin registers are the
ones a run uses, built with what the hook specifications promise."""
import types

import pytest
import torch

from mtdnn_core import hookimpl
from mtdnn_core.model.encoder import load_tiny_random_bert
from mtdnn_core.samplers import TaskSampler
from mtdnn_core.testing import make_host
from mtdnn_core.training.trainer import Trainer


class CountingSGD(torch.optim.SGD):
    def __init__(self, params, lr):
        super().__init__(params, lr=lr)
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return super().step(closure)


class TasksInTurn(TaskSampler):
    """Every batch of the first task, then every batch of the second."""

    def schedule(self, epoch):
        return [(task, batch) for task, batches in enumerate(self.task_batches(epoch)) for batch in batches]


def components_plugin(seen):
    plugin = types.ModuleType("components")

    def encoder(spec, **config):
        seen["encoder"] = (spec, config)
        return load_tiny_random_bert()

    def halving(optimizer, warmup_steps, total_steps):
        seen["schedule"] = (warmup_steps, total_steps)
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 ** step)

    plugin.register_encoders = hookimpl(lambda registry: registry.add("my-encoder", encoder))
    plugin.register_samplers = hookimpl(lambda registry: registry.add("in_turn", TasksInTurn))
    plugin.register_optimizers = hookimpl(lambda registry: registry.add("counting_sgd", CountingSGD))
    plugin.register_schedulers = hookimpl(lambda registry: registry.add("halving", halving))
    plugin.on_step_end = hookimpl(lambda state: seen.setdefault("steps", []).append((state.task, state.lr)))
    return plugin


def test_a_run_uses_the_plugins_encoder_sampler_optimizer_and_schedule(tiny_train_config, tiny_tasks):
    task_def, data = tiny_tasks
    seen = {}
    config = tiny_train_config(task_def=[str(task_def)], data_dir=str(data), tasks=["pair", "reg"], max_train_samples=16,
                               max_eval_samples=8, encoder="my-encoder", sampler="in_turn", optimizer="counting_sgd",
                               scheduler="halving", lr=0.1)
    trainer = Trainer(config, make_host(components_plugin(seen)), progress=False)
    trainer.train()
    assert seen["encoder"] == ("my-encoder", {})
    assert seen["schedule"] == (0, 4)  # 2 tasks x 16 rows / 8 per batch, no warmup
    assert [task for task, _ in seen["steps"]] == ["pair", "pair", "reg", "reg"]
    assert isinstance(trainer.optimizer, CountingSGD) and trainer.optimizer.steps == 4
    rates = [lr for _, lr in seen["steps"]]
    assert [b / a for a, b in zip(rates, rates[1:])] == pytest.approx([0.5, 0.5, 0.5])
