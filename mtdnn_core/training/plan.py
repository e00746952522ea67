"""A run's plan: everything about a training run that can be decided without a model.

:func:`plan_run` resolves the tasks, finds their data files, validates every component's
config and the run-mode constraints, and parses ``metric_for_best``. It loads no encoder and
tokenizes nothing, so ``mtdnn validate`` builds the same plan as ``mtdnn train`` and refuses
exactly what training would refuse, in seconds. Problems of independent parts are reported
together.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mtdnn_core.config import TaskDef, TrainConfig
from mtdnn_core.errors import ConfigError, MtdnnError, UnknownNameError
from mtdnn_core.optim import warmup_steps
from mtdnn_core.plugins import PluginHost
from mtdnn_core.regularizers import RunMode, check_regularizers
from mtdnn_core.tasks import Task
from mtdnn_core.training.distributed import Distributed
from mtdnn_core.training.selection import BestTracker, Criterion
from mtdnn_core.training.resolved import ResolvedTask
from mtdnn_core.training.setup import TRAIN_SPLIT, find_task_files, plan_tasks, task_data_dirs


@dataclass(frozen=True)
class UpdateCounts:
    """How many optimizer updates a run makes, decided in one place (the scheduler, the progress
    bar and the end of training all read it)."""

    batches_per_epoch: int
    updates_per_epoch: int  # an epoch's last, partial accumulation still updates
    total_updates: int  # max_steps when set, else updates_per_epoch x epochs (at least 1)
    warmup_updates: int


@dataclass
class RunPlan:
    """What a run trains and scores, and with which validated component configs."""

    config: TrainConfig
    host: PluginHost
    tasks: dict[str, Task]
    files: dict[str, dict[str, Path]]  # task -> {split: file}
    sampler_config: Any
    first_metrics: dict[str, str]  # task -> the name of its first metric
    directions: dict[str, bool]  # metric name -> higher is better
    criterion: Criterion | None = None  # from metric_for_best
    notes: list[str] = field(default_factory=list)
    resolved: dict[str, ResolvedTask] = field(default_factory=dict)  # task -> its names looked up once

    @property
    def defs(self) -> dict[str, TaskDef]:
        return {name: task.definition for name, task in self.tasks.items()}

    @property
    def output_dir(self) -> Path:
        return Path(self.config.output_dir)

    def update_counts(self, batches_per_epoch: int) -> UpdateCounts:
        """The update arithmetic once the sampler knows an epoch's batches (the one number that
        needs the tokenized data)."""
        config = self.config
        per_epoch = math.ceil(batches_per_epoch / config.grad_accumulation)
        total = config.max_steps or max(1, per_epoch * config.epochs)
        return UpdateCounts(batches_per_epoch, per_epoch, total, warmup_steps(config.warmup, total))

    def tracker(self) -> BestTracker | None:
        """A fresh best-checkpoint tracker (``metric_for_best``), or None without one."""
        return BestTracker(self.criterion, self.config.early_stopping) if self.criterion else None


def plan_run(config: TrainConfig, host: PluginHost, distributed: bool | None = None, data: bool = True) -> RunPlan:
    """The plan of training ``config`` with the plugins of ``host``; ``data=False`` skips looking
    for data files (a config checked on its own, without its ``--data-dir``). Raises the single
    problem found as it is, or a :class:`ConfigError` listing them all. ``distributed`` defaults
    to whether this process is one of a ``torchrun`` launch."""
    if distributed is None:
        distributed = Distributed().enabled
    errors: list[MtdnnError] = []

    def attempt(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except MtdnnError as exc:
            errors.append(exc)
            return None

    registries = host.registries
    tasks, resolved = attempt(lambda: plan_tasks(config, host)) or (None, {})
    files: dict[str, dict[str, Path]] = {}
    if tasks is not None and data:
        files = attempt(lambda: find_task_files(tasks, task_data_dirs(config, host), Path(config.output_dir) / "data",
                                                need_train=config.epochs > 0)) or {}
        files = attempt(lambda: chosen_splits(files, config.eval_splits)) or {}
    sampler_config = attempt(lambda: _component("sampler", registries.samplers, config.sampler, config.sampler_config))
    attempt(lambda: _component("optimizer", registries.optimizers, config.optimizer, config.optimizer_config))
    attempt(lambda: _component("scheduler", registries.schedulers, config.scheduler, config.scheduler_config))
    known = len(errors)
    for reg in config.regularizers:
        attempt(lambda reg=reg: _component("regularizers", registries.regularizers, reg.name, reg.params))
    if tasks is not None and len(errors) == known:  # each regularizer's config is valid: build and ask it
        attempt(lambda: _check_regularizers(config, host, resolved, distributed))
    if config.fsdp:
        attempt(lambda: _check_fsdp(config, distributed))
    plan = None
    if tasks is not None and (files or not data):
        plan = attempt(lambda: _with_metrics(config, host, tasks, files, sampler_config, scored=data))
    if plan is not None:
        plan.resolved = resolved
    if errors:
        raise _together(errors)
    assert plan is not None
    return plan


def split_matches(split: str, names: list[str]) -> bool:
    """Whether ``split`` is one of ``names``, or ends in ``_NAME`` (``dev`` matches ``matched_dev``)."""
    return any(split == name or split.endswith(f"_{name}") for name in names)


def chosen_splits(files: dict[str, dict[str, Path]], eval_splits: list[str] | None) -> dict[str, dict[str, Path]]:
    """Each task's training file and the evaluation files ``eval_splits`` names (all with None);
    a name that matches no file of any task is a typo worth stopping for."""
    if eval_splits is None:
        return files
    found = sorted({split for splits in files.values() for split in splits if split != TRAIN_SPLIT})
    unmatched = [name for name in eval_splits if not any(split_matches(split, [name]) for split in found)]
    if unmatched and found:
        raise ConfigError([f"eval_splits: {', '.join(unmatched)} matches none of the run's evaluation files "
                           f"({', '.join(found)})"], "--eval-splits")
    return {task: {split: path for split, path in splits.items()
                   if split == TRAIN_SPLIT or split_matches(split, eval_splits)} for task, splits in files.items()}


def _with_metrics(config: TrainConfig, host: PluginHost, tasks: dict[str, Task], files: dict[str, dict[str, Path]],
                  sampler_config: Any, scored: bool) -> RunPlan:
    """The plan with each task's first metric and ``metric_for_best`` checked against the sets
    the run scores (when its data files are known)."""
    metrics = host.registries.metrics
    defs = {name: task.definition for name, task in tasks.items()}
    first = {n: metrics.get(d.metric_meta[0]).factory.name for n, d in defs.items() if d.metric_meta}
    directions = {e.factory.name: e.factory.higher_is_better for e in metrics}
    computes = ({f"{task}_{split}": [metrics.get(m).factory.name for m in defs[task].metric_meta]
                 for task, splits in files.items() for split in splits if split != "train"} if scored else None)
    criterion = (Criterion.parse(config.metric_for_best, first, directions, computes)
                 if config.metric_for_best else None)
    return RunPlan(config, host, tasks, files, sampler_config, first, directions, criterion)


def _component(key: str, registry: Any, name: str, params: dict | None) -> Any:
    """A component's validated config; an unknown name or a bad parameter names ``key``."""
    try:
        return registry.validate_config(name, params)
    except UnknownNameError as exc:
        raise ConfigError([f"{key}: {exc}"], key) from None
    except ConfigError as exc:
        raise ConfigError([f"{key}: {exc.source}: {problem}" for problem in exc.problems], exc.source) from None


def _check_regularizers(config: TrainConfig, host: PluginHost, resolved: dict[str, ResolvedTask],
                        distributed: bool) -> None:
    """Each regularizer refuses what it cannot serve (its task types, torchrun, ``--compile``)
    before any model is built: :meth:`Regularizer.check` through :func:`check_regularizers`."""
    defs = {name: task.definition for name, task in resolved.items()}
    problems = check_regularizers(config.regularizers, host.registries, defs,
                                  RunMode(distributed=distributed, compile=config.compile, fsdp=config.fsdp),
                                  task_types={name: task.task_type for name, task in resolved.items()})
    if problems:
        raise ConfigError(problems, "regularizers")


def _check_fsdp(config: TrainConfig, distributed: bool) -> None:
    """What ``--fsdp`` cannot be combined with, before any model is built."""
    problems = []
    if not distributed:
        problems.append("--fsdp shards the model over torchrun's processes: start the run with torchrun "
                        "--nproc_per_node N (N >= 2), or drop --fsdp")
    if config.compile:
        problems.append("--fsdp with --compile: the encoder is compiled in place, which does not compose with its "
                        "sharded layers here; drop one of them")
    if config.ema_decay is not None:
        problems.append("--fsdp with --ema-decay: the weight average keeps a full, unsharded copy of the model; drop one of them")
    if config.precision == "fp16":
        problems.append("--fsdp with --precision fp16: loss scaling is not supported with sharded gradients; use bf16")
    if problems:
        raise ConfigError(problems, "--fsdp")


def _together(errors: list[MtdnnError]) -> MtdnnError:
    """One error as it was raised; several as one :class:`ConfigError` listing every problem."""
    if len(errors) == 1:
        return errors[0]
    problems: list[str] = []
    for exc in errors:
        problems.extend(exc.problems if isinstance(exc, ConfigError) else [str(exc)])
    return ConfigError(problems, "the run's configuration")
