"""Regularizers for robust fine-tuning: SMART's adversarial smoothness term, its Bregman
proximal point (momentum teacher) term, and posterior differential regularization.

Each adds ``weight * divergence(...)`` to a task's loss. The divergence is the task
definition's ``adv_loss`` unless ``divergence`` names another; sequence-labeling logits are
compared token by token over real tokens.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.config import TaskDef
from mtdnn_core.regularizers import Regularizer
from mtdnn_alum.perturb import ascent_direction, normalize, perturbed, project, target_module

DEFAULT_DIVERGENCE = {"Regression": "mse"}


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")
    divergence: str | None = Field(default=None, description="loss name; default: the task's adv_loss (sym_kl / mse)")
    tasks: list[str] | None = Field(default=None, description="only these tasks (default: all)")
    task_weight: dict[str, float] = Field(default_factory=dict, description="per-task override of the weight")


class _DivergenceRegularizer(Regularizer):
    def __init__(self, registries: Any = None, divergence: str | None = None, tasks: list[str] | None = None,
                 task_weight: dict[str, float] | None = None):
        self.registries = registries
        self.divergence = divergence
        self.tasks = tasks
        self.task_weight = task_weight or {}
        self._losses: dict[str, Any] = {}

    def applies(self, task: TaskDef) -> bool:
        return self.tasks is None or task.name in self.tasks

    def loss_for(self, task: TaskDef):
        name = self.divergence or task.adv_loss or DEFAULT_DIVERGENCE.get(task.task_type, "sym_kl")
        if name not in self._losses:
            if self.registries is None:
                from mtdnn_core.losses import MeanSquaredError, SymmetricKL

                self._losses[name] = MeanSquaredError() if name in ("mse", "MseCriterion") else SymmetricKL()
            else:
                self._losses[name] = self.registries.losses.build(name)
        return self._losses[name]

    @staticmethod
    def flat(logits: torch.Tensor, batch: dict) -> torch.Tensor:
        """Token-level logits of real tokens as [N, C]; other shapes unchanged."""
        if logits.dim() == 3:
            return logits[batch["attention_mask"].bool()]
        return logits

    def compare(self, task: TaskDef, batch: dict, logits: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        return self.loss_for(task)(self.flat(logits, batch), self.flat(reference, batch))


class SMARTConfig(_Common):
    alpha: float = Field(default=1.0, ge=0, description="weight of the adversarial term")
    steps: int = Field(default=1, ge=0, description="K: projected gradient-ascent steps (0: random noise only)")
    step_size: float = Field(default=1e-3, gt=0, description="ascent step size")
    noise_var: float = Field(default=1e-5, ge=0, description="variance of the Gaussian starting noise")
    epsilon: float = Field(default=1e-5, gt=0, description="radius of the perturbation ball")
    norm: Literal["inf", "l2", "l1"] = "inf"
    granularity: Literal["token", "sentence"] = "token"
    mode: Literal["project", "normalize"] = Field(
        default="project", description="project: clip into the epsilon-ball; normalize: rescale onto its surface")
    where: str = Field(default="word_embeddings", description="word_embeddings, embeddings or layer:N")


class SMART(_DivergenceRegularizer):
    """Smoothness-inducing adversarial regularization (SMART, arXiv 1911.03437): find the
    perturbation of the input representation within an epsilon-ball that most changes the
    model's prediction (K ascent steps from Gaussian noise), then penalize that change."""

    Config = SMARTConfig

    def __init__(self, alpha=1.0, steps=1, step_size=1e-3, noise_var=1e-5, epsilon=1e-5, norm="inf",
                 granularity="token", mode="project", where="word_embeddings", **common):
        super().__init__(**common)
        self.alpha, self.steps, self.step_size, self.noise_var = alpha, steps, step_size, noise_var
        self.epsilon, self.norm, self.per_token, self.mode, self.where = epsilon, norm, granularity == "token", mode, where

    def _bound(self, delta: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if self.mode == "normalize":
            return self.epsilon * normalize(delta, self.norm, self.per_token, mask) * mask
        return project(delta, self.norm, self.epsilon, self.per_token, mask) * mask

    def perturbation(self, model, task: TaskDef, batch: dict, clean: torch.Tensor) -> torch.Tensor:
        """The adversarial perturbation (detached) for this batch."""
        module = target_module(model.encoder, self.where)
        width = module.weight.shape[1] if self.where == "word_embeddings" else model.hidden_size
        mask = batch["attention_mask"].unsqueeze(-1).float()
        delta = torch.randn(*batch["input_ids"].shape, width, device=clean.device) * math.sqrt(self.noise_var) * mask
        delta = self._bound(delta, mask) if self.steps else delta
        for _ in range(self.steps):
            delta.requires_grad_(True)
            with perturbed(module, delta):
                adversarial = model(task.name, batch)
            inner = self.compare(task, batch, adversarial, clean.detach())
            (grad,) = torch.autograd.grad(inner, delta)
            step = ascent_direction(grad.float(), self.norm, self.per_token, mask)
            delta = self._bound(delta.detach() + self.step_size * step, mask)
        return delta.detach()

    def weight(self, task: TaskDef) -> float:
        return self.task_weight.get(task.name, self.alpha)

    def __call__(self, model, task, batch, logits, loss):
        if not self.applies(task) or self.weight(task) == 0:
            return None
        delta = self.perturbation(model, task, batch, logits)
        with perturbed(target_module(model.encoder, self.where), delta):
            adversarial = model(task.name, batch)
        return self.weight(task) * self.compare(task, batch, adversarial, logits)


class PDRConfig(SMARTConfig):
    steps: int = Field(default=0, ge=0, description="0: random perturbations (posterior differential regularization)")
    noise_var: float = Field(default=1e-5, ge=0)
    divergence: str | None = Field(default="js", description="an f-divergence: js, hellinger, chi2, tv, kl, reverse_kl, sym_kl")


class PosteriorDifferential(SMART):
    """Posterior differential regularization (arXiv 2010.12638): the divergence between the
    predictions on clean and randomly perturbed inputs, measured with an f-divergence."""

    Config = PDRConfig

    def __init__(self, steps=0, divergence="js", **config):
        super().__init__(steps=steps, divergence=divergence, **config)


class BregmanConfig(_Common):
    mu: float = Field(default=1.0, ge=0, description="weight of the proximal term")
    beta: float = Field(default=0.99, ge=0, lt=1, description="momentum of the teacher (EMA of the model)")


class BregmanProximalPoint(_DivergenceRegularizer):
    """SMART's momentum Bregman proximal point: keep the model's predictions close to those of
    a teacher that is an exponential moving average of the model itself."""

    Config = BregmanConfig

    def __init__(self, mu=1.0, beta=0.99, **common):
        super().__init__(**common)
        self.mu, self.beta = mu, beta
        self.teacher: torch.nn.Module | None = None
        self._pending_state: dict | None = None

    def _ensure_teacher(self, model) -> torch.nn.Module:
        if self.teacher is None:
            self.teacher = copy.deepcopy(model).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            if self._pending_state:
                self.teacher.load_state_dict(self._pending_state)
                self._pending_state = None
        return self.teacher

    def __call__(self, model, task, batch, logits, loss):
        if not self.applies(task) or self.mu == 0:
            return None
        teacher = self._ensure_teacher(model)
        with torch.no_grad():
            reference = teacher(task.name, batch)
        return self.task_weight.get(task.name, self.mu) * self.compare(task, batch, logits, reference)

    @torch.no_grad()
    def after_update(self, model) -> None:
        teacher = self._ensure_teacher(model)
        for t, s in zip(teacher.parameters(), model.parameters()):
            t.mul_(self.beta).add_(s.detach(), alpha=1 - self.beta)

    def state_dict(self) -> dict:
        return {} if self.teacher is None else {k: v.detach().cpu() for k, v in self.teacher.state_dict().items()}

    def load_state_dict(self, state: dict) -> None:
        self._pending_state = dict(state) or None
