"""Regularizers: extra loss terms computed around a training step.

The trainer computes the task loss, then asks every active regularizer for a term: most add it
to the task loss (adversarial smoothness, proximal point, ...); one that declares
``replaces_task_loss`` returns the batch's whole loss instead (distillation's mix of soft and hard
losses). A regularizer declares what it needs from the run (class attributes below), so that
:meth:`Regularizer.check` refuses a combination it cannot serve before the encoder is loaded.
:meth:`Regularizer.setup` runs once before training; :meth:`Regularizer.after_update` after each
optimizer update (for EMA teachers).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.config import TaskDef


@dataclass(frozen=True)
class RunMode:
    """How the run trains, as far as regularizers care: under torchrun, with ``--compile``, with
    the model sharded (``--fsdp``)."""

    distributed: bool = False
    compile: bool = False
    fsdp: bool = False


@dataclass
class RegularizerContext:
    """What :meth:`Regularizer.setup` receives once before training: the run's task definitions
    (by name), their task types, the tokenizer, the training datasets, the model, the run's
    seed (the same on every torchrun rank) and ``copy_model``: a function that returns a copy of
    the model with its current weights, placed as it is (sharded the same way under ``--fsdp``,
    where ``copy.deepcopy`` fails). Keep or restore such a copy's weights with
    ``full_module_state`` and ``load_full_module_state`` (API 1.2), which gather shards."""

    tasks: dict[str, TaskDef]
    task_types: dict[str, Any]
    tokenizer: Any = None
    datasets: list = field(default_factory=list)
    model: Any = None
    seed: int = 0
    copy_model: Any = None  # () -> torch.nn.Module; None outside a run (then copy.deepcopy the model)


class Regularizer:
    """Base class. Built as ``cls(registries=..., config=Config)`` (or with the config's fields as
    keyword arguments when ``__init__`` takes no ``config``): ``registries`` lets a regularizer
    look up losses (e.g. one a task definition names) by name.

    The trainer logs each term it returns (``reg_<name>`` in ``log.jsonl``; for a regularizer that
    replaces the task loss, the loss it put in its place); a regularizer may also offer
    ``log_values() -> dict`` with pieces of its last term (logged as ``reg_<name>_<key>``)."""

    #: names of the task types it applies to; ``None``: any (restricted by ``compares_outputs``)
    task_types: tuple[str, ...] | None = None
    #: it compares two outputs of a batch through ``TaskType.compare_outputs``; task types that
    #: cannot compare outputs are refused
    compares_outputs: bool = False
    #: its term is the batch's whole loss (it is handed the task loss alone), not an addition
    replaces_task_loss: bool = False
    #: forward passes it runs per batch besides the trainer's
    extra_forward_passes: int = 0
    #: it hooks into encoder modules (perturbations of their outputs)
    hooks_encoder: bool = False
    #: it keeps a copy of the model (a teacher)
    copies_model: bool = False
    #: it works under torchrun (data-parallel training). The trainer sums the gradients of every
    #: pass of an update, so a term computed from the batch's rows on each rank is enough; declare
    #: False when the term needs what one rank cannot see (e.g. statistics of the whole batch)
    supports_distributed: bool = False
    #: keys of ``log_values()`` that count things (summed over ranks under torchrun; others are averaged)
    log_sums: tuple[str, ...] = ()
    #: it works with ``--compile``
    supports_compile: bool = False
    #: it works with ``--fsdp``: the model's weights are then sharded tensors (DTensors), each
    #: forward pass is a collective every rank must run, and :meth:`state_dict` is called on every
    #: rank (rank 0's is saved), so that it may gather shards
    supports_fsdp: bool = False

    def __call__(self, model: torch.nn.Module, task: TaskDef, batch: dict, logits: torch.Tensor,
                 loss: torch.Tensor) -> torch.Tensor | None:  # pragma: no cover
        raise NotImplementedError

    def term_units(self, task: TaskDef, task_type: Any, batch: dict) -> torch.Tensor | None:
        """How many units its term averages over for ``batch`` (under torchrun each rank's term is
        weighted by its share of them); ``None``: those of the task loss."""
        return None

    def applies(self, task: TaskDef) -> bool:
        """Whether it acts on ``task`` at all (a regularizer limited to some tasks says no to others)."""
        return True

    def needs(self) -> list[str]:
        """What it requires from the run, in words (for refusal messages)."""
        needs = []
        if self.extra_forward_passes:
            needs.append(f"{self.extra_forward_passes} extra forward pass(es) per batch outside the trained model")
        if self.hooks_encoder:
            needs.append("hooks into the encoder's modules")
        if self.copies_model:
            needs.append("a copy of the model")
        return needs

    def check(self, tasks: dict[str, TaskDef], task_types: dict[str, Any], mode: RunMode = RunMode()) -> list[str]:
        """Problems of using it in a run of ``tasks`` (their task types by task name) trained as
        ``mode``; empty when it can serve the run. Messages say why and how to go on."""
        problems = []
        for name, task in tasks.items():
            if not self.applies(task):
                continue
            task_type = task_types[name]
            if self.task_types is not None and task.task_type not in self.task_types:
                problems.append(f"task '{name}' is of task type '{task.task_type}'; it applies to "
                                f"{', '.join(self.task_types)} only (limit it to other tasks or drop it)")
            elif self.compares_outputs and not getattr(task_type, "compares_outputs", False):
                problems.append(f"task '{name}': task type '{task.task_type}' cannot compare two outputs of a batch, "
                                f"which this regularizer needs (limit it to other tasks or drop it)")
        why = "; ".join(self.needs()) or "it is not declared to support it"
        if mode.distributed and not self.supports_distributed:
            problems.append(f"does not run under torchrun ({why}); train it in one process")
        if mode.compile and not self.supports_compile:
            problems.append(f"does not run with --compile ({why}); train it without --compile")
        if mode.fsdp and not self.supports_fsdp:
            problems.append(f"does not run with --fsdp ({why}); train it without --fsdp")
        return problems

    def setup(self, context: RegularizerContext) -> None:
        """Called once before training, with the data and model (load what the run needs here,
        so that its problems show before the first batch)."""

    def after_update(self, model: torch.nn.Module) -> None:
        """Called after each optimizer update."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def regularizer_problems(regularizers: list[tuple[str, Regularizer]], tasks: dict[str, TaskDef],
                         task_types: dict[str, Any], mode: RunMode = RunMode()) -> list[str]:
    """Every regularizer's :meth:`~Regularizer.check`, each problem naming its regularizer, plus
    those of the set: at most one may replace the task loss."""
    problems = [f"regularizers: {name}: {problem}" for name, reg in regularizers
                for problem in reg.check(tasks, task_types, mode)]
    replacing = [name for name, reg in regularizers if reg.replaces_task_loss]
    if len(replacing) > 1:
        problems.append(f"regularizers: {', '.join(replacing)} each replace the task loss; use one of them")
    return problems


class L2SPConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    alpha: float = Field(default=0.01, gt=0, description="weight of the squared distance to the starting encoder")


class L2SP(Regularizer):
    """L2-SP (Li et al., 2018): alpha * ||theta - theta_0||^2 over the encoder's weights, which
    keeps fine-tuning close to the pretrained starting point."""

    Config = L2SPConfig
    supports_distributed = True
    supports_compile = True
    supports_fsdp = True

    def __init__(self, registries=None, config: L2SPConfig | None = None):
        self.alpha = (config or L2SPConfig()).alpha
        self.start: dict[str, torch.Tensor] | None = None

    def term_units(self, task, task_type, batch):
        """One per rank: the term is not a mean over rows, each rank adds it once."""
        return torch.ones(())

    def __call__(self, model, task, batch, logits, loss):
        params = dict(model.encoder.named_parameters())
        if self.start is None:  # as the weights are at the first batch: sharded ones as their shards
            self.start = {k: p.detach().clone() for k, p in params.items() if p.requires_grad}
        whole, shards = 0.0, 0.0  # weights held whole (all of them without --fsdp); this rank's shards
        for name in self.start:
            weight = params[name]
            start = self._start_like(name, weight)
            if _is_dtensor(weight):
                shards = shards + ((weight.to_local() - start.to_local()) ** 2).sum()
            else:
                whole = whole + ((weight - start) ** 2).sum()
        if torch.is_tensor(shards):  # every rank's shards: the same term on every rank
            whole = whole + _SumOverRanks.apply(shards)
        return self.alpha * whole

    def _start_like(self, name: str, weight: torch.Tensor) -> torch.Tensor:
        """The start of ``weight`` in the form and on the device the weight has here (under
        --fsdp a layer's weight is a shard, the root's is gathered; a resumed start comes whole,
        on the CPU); converted once and kept."""
        start = self.start[name]
        if _is_dtensor(weight) and not _is_dtensor(start):
            from torch.distributed.tensor import distribute_tensor

            start = distribute_tensor(start.to(weight.to_local().device), weight.device_mesh, weight.placements)
        elif not _is_dtensor(weight) and _is_dtensor(start):
            start = start.full_tensor()
        if not _is_dtensor(start) and start.device != weight.device:
            start = start.to(weight.device)
        self.start[name] = start
        return start

    def state_dict(self) -> dict:
        """The starting weights, whole (under --fsdp gathered from the shards: every rank calls it)."""
        return {k: (v.full_tensor() if _is_dtensor(v) else v).detach().cpu() for k, v in (self.start or {}).items()}

    def load_state_dict(self, state: dict) -> None:
        self.start = dict(state) or None


class _SumOverRanks(torch.autograd.Function):
    """The sum of every rank's value (one all-reduce). Its gradient is the ranks' mean of theirs:
    each rank's value is one part of one term that every rank's loss holds, weighted by the
    rank's share times the world size (the shares' mean is 1), and nothing averages a sharded
    weight's gradient afterwards, unlike the gradients FSDP reduce-scatters."""

    @staticmethod
    def forward(ctx, value: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        total = value.detach().clone()
        dist.all_reduce(total)
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        grad = grad.clone()
        dist.all_reduce(grad)
        return grad / dist.get_world_size()


def _is_dtensor(value: Any) -> bool:
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:  # a torch built without distributed support has no sharded tensors
        return False
    return isinstance(value, DTensor)


def check_regularizers(regularizers: list, registries: Any, tasks: dict[str, TaskDef],
                       mode: RunMode = RunMode(), task_types: dict[str, Any] | None = None) -> list[str]:
    """The problems of a run's regularizers (``RegularizerConfig`` entries, built here; building
    is cheap) with its tasks and mode, found before any model is built. ``task_types``: each
    task's task type object when already resolved."""
    if task_types is None:
        task_types = {name: registries.task_types.get(task.task_type).factory for name, task in tasks.items()}
    built = [(reg.name, registries.regularizers.build(reg.name, reg.params, registries=registries))
             for reg in regularizers]
    return regularizer_problems(built, tasks, task_types, mode)
