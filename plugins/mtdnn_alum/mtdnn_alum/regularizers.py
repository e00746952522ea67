"""Regularizers for robust fine-tuning: SMART's adversarial smoothness term, its Bregman
proximal point (momentum teacher) term, and posterior differential regularization.

Each adds ``weight * divergence(...)`` to a task's loss. The divergence is the task
definition's ``adv_loss`` unless ``divergence`` names another; the task type lays out the two
outputs it compares (``TaskType.compare_outputs``: token by token over real tokens for sequence
labeling, start and end distributions for spans), and a task type that cannot is refused before
training. ``log_values()`` gives the last step's unweighted
pieces for the training log.
"""
from __future__ import annotations

import copy
import logging
import zlib
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mtdnn_core.api import (ConfigError, Regularizer, TaskDef, TaskDefField, did_you_mean, full_module_state,
                            load_full_module_state)
from mtdnn_alum.adversary import AdversarialPerturbation, PerturbationConfig
from mtdnn_alum.perturb import install, perturbed, target_module, width_at

log = logging.getLogger("mtdnn.alum")
#: a perturbation this close to its random start (cosine) was not chosen by the gradient
STUCK_COSINE = 0.9

#: the ``adv_loss`` key of task definitions, declared through ``register_task_def_fields``: the
#: divergence of the task's adversarial terms, by default mse for regression (task type names
#: compared lower-cased, so both "Regression" and "regression" match), sym_kl for the others
ADV_LOSS = TaskDefField("adv_loss", type=str, names="losses", defaults={"regression": "mse"}, default="sym_kl",
                        description="the divergence of the task's adversarial terms; default sym_kl (mse for regression)")


def divergence_name(task: TaskDef, override: str | None = None) -> str:
    """The divergence a regularizer uses for ``task``: ``override``, else the task's adv_loss."""
    return override or ADV_LOSS.value(task)


def standalone_loss(name: str):
    """A divergence by name without a plugin host (a regularizer built directly, e.g. in tests)."""
    from mtdnn_core.api import KLDivergence, MeanSquaredError, SymmetricKL
    from mtdnn_alum.divergences import DIVERGENCES

    known = {"mse": MeanSquaredError, "MseCriterion": MeanSquaredError, "kl": KLDivergence,
             "KlCriterion": KLDivergence, "sym_kl": SymmetricKL, "SymKlCriterion": SymmetricKL}
    for key, (cls, aliases) in DIVERGENCES.items():
        known.update(dict.fromkeys((key, *aliases), cls))
    if name not in known:
        raise ConfigError([f"divergence: no loss '{name}'{did_you_mean(name, known)}; known here: {', '.join(sorted(known))}"])
    return known[name]()


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    divergence: str | None = Field(default=None, description="loss name; default: the task's adv_loss (sym_kl / mse)")
    tasks: list[str] | None = Field(default=None, description="only these tasks (default: all)")
    task_weight: dict[str, float] = Field(default_factory=dict, description="per-task override of the weight")


class _DivergenceRegularizer(Regularizer):
    compares_outputs = True
    supports_distributed = True
    supports_compile = True
    supports_fsdp = True

    def __init__(self, registries: Any = None, divergence: str | None = None, tasks: list[str] | None = None,
                 task_weight: dict[str, float] | None = None):
        self.registries = registries
        self.divergence = divergence
        self.tasks = tasks
        self.task_weight = task_weight or {}
        self._losses: dict[str, Any] = {}
        self._last: dict[str, torch.Tensor] = {}
        self._task_types: dict[str, Any] = {}

    def setup(self, context) -> None:
        self._task_types.update(context.task_types)

    def task_type(self, task: TaskDef):
        """The task's task type (from setup, else looked up by name)."""
        if task.name not in self._task_types:
            registries = self.registries
            if registries is None:
                from mtdnn_core.api import PluginHost

                registries = PluginHost().registries
            self._task_types[task.name] = registries.task_types.get(task.task_type).factory
        return self._task_types[task.name]

    def applies(self, task: TaskDef) -> bool:
        return self.tasks is None or task.name in self.tasks

    def loss_for(self, task: TaskDef):
        name = divergence_name(task, self.divergence)
        if name not in self._losses:
            self._losses[name] = self.registries.losses.build(name) if self.registries is not None else standalone_loss(name)
        return self._losses[name]

    def term_units(self, task: TaskDef, task_type: Any, batch: dict) -> torch.Tensor:
        """The rows its divergence averages over (real tokens for sequence labeling)."""
        return self.task_type(task).comparison_units(batch)

    def compare(self, task: TaskDef, batch: dict, logits: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return self.task_type(task).compare_outputs(logits, reference, batch, self.loss_for(task))

    def log_values(self) -> dict[str, float]:
        """The last step's unweighted pieces (floats; converted only here, never per step)."""
        return {key: float(value) for key, value in self._last.items()}


class SMARTConfig(_Common, PerturbationConfig):
    alpha: float = Field(default=1.0, ge=0, description="weight of the adversarial term")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "noise_var" in data:
            raise ValueError("noise_var is now noise_std, the standard deviation of the starting noise "
                             "(the original toolkit multiplies by its adv_noise_var); for a variance v use noise_std: sqrt(v)")
        return data


class SMART(_DivergenceRegularizer):
    """Smoothness-inducing adversarial regularization (SMART, arXiv 1911.03437): the
    perturbation of the input representation that most changes the model's prediction (K ascent
    steps from Gaussian noise, bounded), and a penalty on that change."""

    Config = SMARTConfig
    hooks_encoder = True

    def __init__(self, registries: Any = None, **params):
        config = self.Config(**params)
        super().__init__(registries, config.divergence, config.tasks, config.task_weight)
        self.config = config
        self.extra_forward_passes = config.steps + 1  # the ascent's passes and the adversarial one
        self.alpha = config.alpha
        self.adversary = AdversarialPerturbation(PerturbationConfig(**config.model_dump(include=set(PerturbationConfig.model_fields))))
        self._warned = False
        self._seed, self._batches = 0, 0  # keys of the row noise (noise_draw: row)

    def setup(self, context) -> None:
        super().setup(context)
        self._seed = getattr(context, "seed", 0)
        if getattr(context, "model", None) is not None:  # before the first forward: a compiled encoder traces the hook
            install(target_module(context.model.encoder, self.config.where))

    def state_dict(self) -> dict:
        return {"batches": self._batches}  # a resumed run draws the row noise an uninterrupted one does

    def load_state_dict(self, state: dict) -> None:
        self._batches = int(state.get("batches", 0))

    def weight(self, task: TaskDef) -> float:
        return self.task_weight.get(task.name, self.alpha)

    def perturbation(self, model, task: TaskDef, batch: dict, clean: torch.Tensor) -> torch.Tensor:
        """The perturbation (detached) for this batch."""
        module = target_module(model.encoder, self.config.where)
        reference = clean.detach()

        def forward(delta):
            with perturbed(module, delta):
                return model(task.name, batch)

        shape = (*batch["input_ids"].shape, width_at(model.encoder, self.config.where))
        self._batches += 1
        keys = None
        if self.config.noise_draw == "row" and "uids" in batch:
            keys = [zlib.crc32(f"{self._seed}/{self._batches}/{uid}".encode()) for uid in batch["uids"]]
        return self.adversary.find(forward, lambda outputs: self.compare(task, batch, outputs, reference), shape,
                                   batch["attention_mask"].unsqueeze(-1), keys=keys)

    def __call__(self, model, task, batch, logits, loss):
        if not self.applies(task) or self.weight(task) == 0:
            return None
        delta = self.perturbation(model, task, batch, logits)
        with perturbed(target_module(model.encoder, self.config.where), delta):
            adversarial = model(task.name, batch)
        divergence = self.compare(task, batch, adversarial, logits)
        self._last = {"adv_divergence": divergence.detach().float(), **self.adversary.last}
        return self.weight(task) * divergence

    def log_values(self) -> dict[str, float]:
        """As the base class; warns once per run when the ascent left the perturbation at its
        random start (then the term is a random-noise penalty, far weaker than intended)."""
        values = super().log_values()
        cosine = values.get("start_noise_cosine")
        if cosine is not None and cosine > STUCK_COSINE and not self._warned:
            self._warned = True
            c = self.config
            log.warning("%s: the adversarial perturbation stayed at its random start (cosine %.2f with the starting noise); "
                        "the ascent step is too small against noise_std for norm %s: raise step_size (now %s) or lower "
                        "noise_std (now %g)", type(self).__name__, cosine, c.norm,
                        "the default" if c.step_size is None else c.step_size, c.noise_std)
        return values


class PDRConfig(SMARTConfig):
    divergence: str | None = Field(default="js", description="an f-divergence: js, hellinger, chi2, tv, kl, reverse_kl, sym_kl")


class PosteriorDifferential(SMART):
    """Posterior differential regularization (arXiv 2010.12638): the divergence between the
    predictions on clean and perturbed inputs, measured with an f-divergence (Jensen-Shannon by
    default). The perturbation is SMART's; ``steps: 0`` makes it random (bounded to ``scale``),
    which at the same size changes predictions about a hundred times less."""

    Config = PDRConfig


class BregmanConfig(_Common):
    mu: float = Field(default=1.0, ge=0, description="weight of the proximal term")
    beta: float = Field(default=0.99, ge=0, lt=1, description="momentum of the teacher (EMA of the model)")


class BregmanProximalPoint(_DivergenceRegularizer):
    """SMART's momentum Bregman proximal point: keep the model's predictions close to those of
    a teacher that is an exponential moving average of the model itself."""

    Config = BregmanConfig
    extra_forward_passes = 1  # the teacher's
    copies_model = True  # sharded like the model under --fsdp (the run's copy_model)
    supports_fsdp = True

    def __init__(self, registries: Any = None, **params):
        config = self.Config(**params)
        super().__init__(registries, config.divergence, config.tasks, config.task_weight)
        self.mu, self.beta = config.mu, config.beta
        self.teacher: torch.nn.Module | None = None
        self._pending_state: dict | None = None
        self._copy_model = None

    def setup(self, context) -> None:
        super().setup(context)
        self._copy_model = getattr(context, "copy_model", None)
        if self._copy_model is not None and self.mu > 0:  # now, before training holds activations
            self._ensure_teacher(context.model)

    def _ensure_teacher(self, model) -> torch.nn.Module:
        if self.teacher is None:
            teacher = self._copy_model() if self._copy_model is not None else copy.deepcopy(model)
            self.teacher = teacher.eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            if self._pending_state:
                load_full_module_state(self.teacher, self._pending_state)
                self._pending_state = None
        return self.teacher

    def __call__(self, model, task, batch, logits, loss):
        if not self.applies(task) or self.mu == 0:
            return None
        teacher = self._ensure_teacher(model)
        with torch.no_grad():
            reference = teacher(task.name, batch)
        divergence = self.compare(task, batch, logits, reference)
        self._last = {"divergence": divergence.detach().float()}
        return self.task_weight.get(task.name, self.mu) * divergence

    @torch.no_grad()
    def after_update(self, model) -> None:
        teacher = self._ensure_teacher(model)
        for t, s in zip(teacher.parameters(), model.parameters()):
            t.mul_(self.beta).add_(s.detach(), alpha=1 - self.beta)

    def state_dict(self) -> dict:
        """The teacher's weights, whole (under --fsdp gathered from every rank's shards)."""
        if self.teacher is None:  # not built yet: what a resume gave it, if anything
            return dict(self._pending_state or {})
        return full_module_state(self.teacher)

    def load_state_dict(self, state: dict) -> None:
        if self.teacher is not None and state:
            load_full_module_state(self.teacher, dict(state))
        else:
            self._pending_state = dict(state) or None
