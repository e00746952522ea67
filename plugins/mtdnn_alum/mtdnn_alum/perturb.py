"""Where a perturbation is added: a forward hook on one module of the encoder.

``embeddings`` is the embedding layer's output (word + position + type embeddings after
LayerNorm and dropout: where the original toolkit perturbs, without its defect of feeding the
perturbed output back through the embedding layer); ``word_embeddings`` the word embeddings
alone (before position/type embeddings and LayerNorm); ``layer:N`` the output of transformer
layer N (ALUM's "chosen hidden layer"). The encoder then runs as usual, so nothing is added twice.
The hook is registered once per module and adds what :func:`perturbed` puts in the module's
slot, so ``--compile`` traces it once (see :func:`_add_slot`).
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import torch
from torch import nn

from mtdnn_core.api import ConfigError

PLACE = re.compile(r"^(embeddings|word_embeddings|layer:\d+)$")


def check_place(where: str) -> str:
    """``where`` if it names a place; a ValueError that says which places exist otherwise."""
    if not PLACE.match(where):
        raise ValueError(f"unknown perturbation place '{where}'; use embeddings, word_embeddings or layer:N")
    return where


def target_module(encoder: nn.Module, where: str) -> nn.Module:
    """The module whose output ``where`` names."""
    check_place(where)
    if where == "word_embeddings":
        return encoder.get_input_embeddings()
    if where == "embeddings":
        module = getattr(encoder, "embeddings", None)
        if module is None:
            raise ConfigError([f"where: {type(encoder).__name__} has no 'embeddings' module; use word_embeddings or layer:N"])
        return module
    index = int(where.split(":", 1)[1])
    layers = [m for m in encoder.modules() if isinstance(m, nn.ModuleList)]
    if not layers or index >= len(layers[0]):
        count = len(layers[0]) if layers else 0
        raise ConfigError([f"where: no layer {index} in this encoder (it has {count}); use layer:0 to layer:{max(count - 1, 0)}"])
    return layers[0][index]


def width_at(encoder: nn.Module, where: str) -> int:
    """The hidden width of the representation at ``where``."""
    if where == "word_embeddings":
        return encoder.get_input_embeddings().weight.shape[1]
    return encoder.config.hidden_size


class Slot:
    """The perturbation a module's permanent hook adds to its output (``None``: nothing)."""

    def __init__(self):
        self.delta: torch.Tensor | None = None  # on the instance from the start: one guard, not two


SLOT = "_mtdnn_perturbation"


def _add_slot(module: nn.Module, _inputs, output):
    """The permanent hook: adds the module's slot's ``delta`` when one is set. One hook for the
    whole run (not one per pass) so that a compiled encoder traces it once and only sees the
    slot's value change: the hook of a module is not guarded by ``torch.compile``, so a hook
    added after the first compiled forward would never run, and one added and removed per pass
    would be traced again each time."""
    delta = getattr(module, SLOT).delta
    if delta is None:
        return None
    if isinstance(output, tuple):
        return (output[0] + delta.to(output[0].dtype), *output[1:])
    return output + delta.to(output.dtype)


def install(module: nn.Module) -> Slot:
    """The module's slot, with its hook registered the first time. Under ``--compile`` this must
    happen before the encoder's first forward (regularizers install in ``setup``)."""
    slot = module.__dict__.get(SLOT)
    if slot is None:
        slot = Slot()
        object.__setattr__(module, SLOT, slot)  # a plain attribute: no state_dict entry; a deepcopy gets its own
        module.register_forward_hook(_add_slot)
    return slot


@contextlib.contextmanager
def perturbed(module: nn.Module, delta: torch.Tensor) -> Iterator[None]:
    """Add ``delta`` to ``module``'s output (first element if it returns a tuple) while inside."""
    slot = install(module)
    previous, slot.delta = slot.delta, delta
    try:
        yield
    finally:
        slot.delta = previous
