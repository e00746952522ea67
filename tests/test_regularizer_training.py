"""How the trainer uses regularizers: setup once before training; a regularizer that replaces the
task loss is handed the task loss alone and its result takes the loss's place; the others' terms
are added to that; the log names each term."""
import types

import pytest
import torch
import torch.nn.functional as F

from mtdnn_core import hookimpl
from mtdnn_core.api import Regularizer
from mtdnn_core.testing import make_host
from mtdnn_core.training.trainer import Trainer


class Halving(Regularizer):
    """Replaces the task loss with half of it, and records what it was handed."""

    replaces_task_loss = True

    def __init__(self, registries=None):
        self.handed, self.contexts = [], []

    def setup(self, context):
        self.contexts.append(context)

    def __call__(self, model, task, batch, logits, loss):
        self.handed.append(loss.detach())
        return 0.5 * loss


class PlusOne(Regularizer):
    def __init__(self, registries=None):
        pass

    def __call__(self, model, task, batch, logits, loss):
        return torch.tensor(1.0)


def regularizers_plugin():
    plugin = types.ModuleType("regularizers")

    def register(registry):
        registry.add("halving", Halving)
        registry.add("plus_one", PlusOne)

    plugin.register_regularizers = hookimpl(register)
    return plugin


def test_the_replacing_regularizer_comes_first_and_the_others_add_to_its_loss(tiny_train_config, tiny_tasks):
    task_def, data = tiny_tasks
    config = tiny_train_config(task_def=[str(task_def)], data_dir=str(data), tasks=["pair"], max_train_samples=8,
                               max_eval_samples=8, regularizers=[{"name": "plus_one"}, {"name": "halving"}])
    trainer = Trainer(config, make_host(regularizers_plugin()), progress=False)
    halving = trainer.regularizers[1]
    assert len(halving.contexts) == 1 and set(halving.contexts[0].tasks) == {"pair"}
    assert halving.contexts[0].model is trainer.model and halving.contexts[0].tokenizer is trainer.tokenizer
    trainer.model.eval()  # no dropout: the same outputs twice
    batch = trainer.batch(0, list(range(4)))
    cross_entropy = F.cross_entropy(trainer.model("pair", batch), batch["labels"]).item()
    loss = trainer.forward_loss(0, batch)
    assert halving.handed[0].item() == pytest.approx(cross_entropy, rel=1e-5)  # the task loss alone
    assert loss.item() == pytest.approx(0.5 * cross_entropy + 1.0, rel=1e-5)
    record = trainer._term_record()
    assert record["reg_halving"] == pytest.approx(0.5 * cross_entropy, rel=1e-5)
    assert record["reg_plus_one"] == 1.0
