"""A task resolved once: its completed definition with the registry objects it names.

A task's type, data format, loss and metrics are names in its definition; :func:`resolve_task`
looks them up once, when the run is planned, so dataset loading, the regularizer checks and the
trainer share the same objects instead of looking the names up again. Which loss a task trains
with is decided by :func:`~mtdnn_core.config.task_loss` alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mtdnn_core.config import TaskDef, complete_with_type, task_loss


@dataclass(frozen=True)
class ResolvedTask:
    """One task's completed definition and the registry objects its names stand for."""

    definition: TaskDef
    task_type: Any  # the task type object (its registry entry's factory)
    data_format: Any  # the data format object
    data_format_origin: str  # the plugin that provides it (part of the dataset cache key)
    head: str | None
    loss: str | None
    metrics: tuple[Any, ...]  # the metric objects of ``metric_meta``, in order
    head_config: Any = None  # ``head_config`` validated by the head's config model (a dict for a head without one)
    loss_config: Any = None  # ``loss_config`` validated likewise

    @property
    def metric_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]


def resolve_task(definition: TaskDef, registries: Any, entry: Any = None) -> ResolvedTask:
    """``definition`` completed and resolved against ``registries`` (``entry``: its task type's
    registry entry when already looked up); raises :class:`UnknownNameError` for a name no plugin
    provides."""
    entry = entry or registries.task_types.get(definition.task_type)
    definition = complete_with_type(definition, entry)
    task_type = entry.factory
    fmt = registries.data_formats.get(definition.data_format)
    metrics = tuple(registries.metrics.get(m).factory for m in definition.metric_meta)
    loss = task_loss(definition, task_type)
    head_config = (registries.heads.validate_config(definition.head, definition.head_config,
                                                    where=f"{definition.name}.head_config.")
                   if definition.head else None)
    loss_config = (registries.losses.validate_config(loss, definition.loss_config, where=f"{definition.name}.loss_config.")
                   if loss else None)
    return ResolvedTask(definition, task_type, fmt.factory, str(fmt.origin), definition.head, loss, metrics,
                        head_config, loss_config)
