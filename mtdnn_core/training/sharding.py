"""``--fsdp``: the model sharded over torchrun's ranks with PyTorch's ``fully_shard`` (FSDP2).

Each transformer layer of the encoder and each task head is its own shard unit and the rest
(embeddings, pooler) belongs to the root, so a rank holds ``1/world`` of every weight, gradient
and optimizer moment and gathers a unit's weights only while it runs. FSDP reduce-scatters the
gradients itself in every backward pass (averaged over ranks, as
:meth:`~mtdnn_core.training.distributed.Distributed.reduce_gradients` does for unsharded runs, so
the loss weights mean the same). Every forward is a collective: all ranks run the same number of
them, in training (a rank without rows runs one at weight 0) and in evaluation
(:func:`~mtdnn_core.training.evaluate.predict`'s ``lockstep``). Checkpoints are those of an
unsharded run: the full weights and optimizer state are gathered on rank 0, which writes them.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mtdnn_core.errors import MtdnnError


def shard_model(model: nn.Module) -> None:
    """Shard ``model`` (a multi-task model: ``encoder`` and ``heads``) in place."""
    from torch.distributed.fsdp import fully_shard

    owners: dict[int, list[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        owners.setdefault(id(param), []).append(name)
    tied = [names for names in owners.values() if len(names) > 1]
    if tied:
        raise MtdnnError(f"--fsdp: the model shares weights between modules ({', '.join(tied[0])}: e.g. a masked-LM decoder "
                         f"tied to the word embeddings), which fully_shard cannot give to separate units; train it without --fsdp")
    layers = next((m for m in model.encoder.modules() if isinstance(m, nn.ModuleList)), None)
    if layers is None:
        raise MtdnnError(f"--fsdp: {type(model.encoder).__name__} has no list of layers to shard; train it without --fsdp")
    for layer in layers:
        fully_shard(layer)
    for head in model.heads.values():
        head.register_forward_hook(_outputs_own_storage)  # before fully_shard's own hook
        fully_shard(head)
    model.register_forward_hook(_outputs_own_storage)
    fully_shard(model)


def _outputs_own_storage(module: nn.Module, args: Any, output: Any) -> Any:
    """A head's output that is a view (a regression head's squeeze, a span head's start/end
    slices) gets its own storage. FSDP hooks the backward on a shard unit's outputs, and an
    in-place op on a view of them (a task type masking logits, say) would drop that hook
    silently: weights not gathered, gradients wrong. The copy is of the heads' small outputs."""
    from torch.utils._pytree import tree_map

    return tree_map(lambda t: t.clone() if isinstance(t, torch.Tensor) and t._is_view() else t, output)


def _options(**kwargs: Any):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kwargs)


def full_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The unsharded weights on rank 0's CPU (empty on other ranks); every rank must call it."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    state = get_model_state_dict(model, options=_options(cpu_offload=True))
    return {name: tensor.clone() for name, tensor in state.items()}  # each its own storage, as safetensors wants


def load_full_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Each rank keeps its shard of the full ``state`` (read by every rank)."""
    from torch.distributed.checkpoint.state_dict import set_model_state_dict

    set_model_state_dict(model, state, options=_options(strict=True))


def is_sharded(module: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(module, FSDPModule)


def full_module_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A module's weights, whole and on the CPU, sharded (``--fsdp``: a collective every rank
    calls; rank 0 gets the tensors, the others an empty dict) or not."""
    if is_sharded(module):
        return full_state(module)
    return {name: tensor.detach().cpu().clone() for name, tensor in module.state_dict().items()}


def load_full_module_state(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Load whole weights (as :func:`full_module_state` gives them; every rank passes them) into
    a module, sharded or not."""
    if is_sharded(module):
        load_full_state(module, dict(state))  # PyTorch replaces the dict's values with shards
    else:
        module.load_state_dict(state)


def copy_sharded(model: nn.Module, build) -> nn.Module:
    """A copy of a sharded ``model`` (FSDP modules cannot be deep-copied): ``build()`` makes a
    fresh unsharded one of the same architecture, sharded here like ``model`` and given its
    current weights shard by shard (no gathering). Its root gives up its gathered weights after
    each forward pass (FSDP keeps a root's gathered until the backward, which a copy used
    without gradients never runs)."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, set_model_state_dict

    copy = build()
    shard_model(copy)
    set_model_state_dict(copy, get_model_state_dict(model))
    copy.register_forward_hook(lambda module, args, output: module.reshard())  # after FSDP's own hook
    return copy


def full_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's state, unsharded and keyed by parameter name, on rank 0 (collective)."""
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    return get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True))


def load_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
    from torch.distributed.checkpoint.state_dict import set_optimizer_state_dict

    # strict=False: a parameter that never had a gradient (an unused pooler) has no state, as in one process
    set_optimizer_state_dict(model, optimizer, state, options=_options(strict=False))


def local(value: torch.Tensor) -> torch.Tensor:
    """A plain tensor of a value computed from sharded ones (a gradient norm is a replicated DTensor)."""
    from torch.distributed.tensor import DTensor

    return value.full_tensor() if isinstance(value, DTensor) else value


class StateOnly(nn.Module):
    """A module whose ``state_dict`` is a given one, so safetensors' ``save_model`` writes the
    gathered weights exactly as it writes an unsharded model's (shared tensors once)."""

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        self._state = state

    def state_dict(self, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:  # noqa: D102
        return self._state
