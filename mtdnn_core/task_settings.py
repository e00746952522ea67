"""Per-task settings that plugins add to task definitions.

A plugin that needs a setting per task (a distillation loss, an adversarial divergence, ...)
declares it through the ``register_task_def_fields`` hook, as pytest plugins declare their
options: task-definition files then carry it as a top-level key like the core's own, the core
validates it (its type, and the registry its value names) and refuses keys no loaded plugin
declared, with did-you-mean. The plugin reads the value, or its default for the task's type,
with :meth:`TaskDefField.value`; the core knows neither the keys nor their defaults.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError


@dataclass(frozen=True)
class TaskDefField:
    """One key of task definitions that a plugin declares.

    ``type`` is what pydantic validates the value against; ``names`` a registry attribute
    (``"losses"``, ``"metrics"``, ...) whose names the value must be one of; ``defaults`` the
    value per task type (canonical name) and ``default`` for the other types.
    """

    name: str
    type: Any = str
    names: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    default: Any = None
    description: str = ""

    def value(self, task: Any) -> Any:
        """The task's value: what its definition says, else the default for its task type."""
        given = (getattr(task, "settings", None) or {}).get(self.name)
        if given is not None:
            return given
        return self.defaults.get(str(task.task_type), self.defaults.get(str(task.task_type).lower(), self.default))

    def problems(self, value: Any, registries: Any) -> list[str]:
        """What is wrong with ``value`` (messages without location); empty when it is valid."""
        try:
            value = TypeAdapter(self.type).validate_python(value)
        except ValidationError as exc:
            return [err["msg"] for err in exc.errors()]
        if self.names is not None and value is not None:
            registry = getattr(registries, self.names)
            if value not in registry:
                try:
                    registry.get(value)
                except KeyError as exc:
                    return [str(exc)]
        return []
