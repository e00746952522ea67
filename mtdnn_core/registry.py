"""Typed registries that the registration hooks fill.

Each kind of component (heads, losses, ...) has one :class:`Registry`. It checks what plugins
add (duplicate names, base class, config model) and remembers which plugin and version added
each entry, so ``mtdnn plugins`` can say where everything came from.

Names (and aliases) are plain identifiers: a letter or ``_`` first, then letters, digits, ``_``,
``-`` or ``.`` (``tiny-random-bert``, ``CoNLL-NER``). Everything else (spaces, ``,``, ``:``,
``=``, ``/``) would be ambiguous in ``--tasks a,b``, ``--metric-for-best task:metric`` or
``--data-dir task=dir``, so it is refused at registration.
"""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from mtdnn_core.errors import ConfigError, PluginError, UnknownNameError, colon_hint, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from mtdnn_core.data.formats import DataFormat
    from mtdnn_core.losses import Loss
    from mtdnn_core.metrics import Metric
    from mtdnn_core.model.heads import Head
    from mtdnn_core.regularizers import Regularizer
    from mtdnn_core.samplers import TaskSampler
    from mtdnn_core.task_types import TaskType
    from mtdnn_core.tasks import Task

T = TypeVar("T")  # what a registry's entries are (classes) or build (factories)

NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class Origin:
    """Which plugin registered an entry."""

    plugin: str
    version: str = ""

    def __str__(self) -> str:
        return f"{self.plugin} {self.version}".strip()


@dataclass
class Entry:
    name: str
    factory: Any
    config: type[BaseModel] | None
    origin: Origin
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """An entry a plugin tried to add and the registry refused (the rest of the plugin stays)."""

    kind: str
    name: str
    plugin: Origin
    reason: str
    clash: bool = False  # another plugin has the name (else: the entry itself is invalid)

    def __str__(self) -> str:
        return f"{self.kind} '{self.name}' from {self.plugin}: {self.reason}"


@dataclass
class Registry(Generic[T]):
    """Named components of one kind; ``Registry[Head]`` builds heads (for type checkers).

    ``base`` is the class every entry must be (if the factory is a class) or return (checked in
    :meth:`build`). ``instance_of`` is for kinds whose entries are objects, not factories.
    """

    kind: str
    base: type | None = None
    instance_of: type | None = None
    _entries: dict[str, Entry] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)
    current_origin: Origin = Origin("unknown")
    missing_hint: Callable[[str], str] | None = None
    strict: bool = True
    refused: list[Refusal] = field(default_factory=list)
    #: what else is wrong with an entry of this kind (a task type without a required method)
    entry_problem: Callable[[str, Any], str | None] | None = None

    def add(
        self,
        name: str,
        factory: Any,
        *,
        config: type[BaseModel] | None = None,
        aliases: tuple[str, ...] | list[str] = (),
        description: str = "",
    ) -> None:
        """Register ``factory`` under ``name`` (and ``aliases``).

        An invalid entry, or a name (or alias) another plugin already registered, is refused: in
        strict mode with a :class:`PluginError`, otherwise recorded in :attr:`refused` (and
        warned about) while everything else keeps registering, so a clash never removes anything.
        """
        problem = self._problem(name, factory, config)
        if problem is not None:
            self._refuse(str(name), problem, clash=isinstance(name, str) and self._lookup(name) is not None)
            return
        kept = []
        for alias in aliases:  # a clashing alias is refused alone; the entry keeps its other names
            clash = self._lookup(alias) if isinstance(alias, str) else None
            if not _plain_name(alias):
                self._refuse(str(alias), self._bad_name(f"alias {alias!r} of '{name}'"))
            elif clash is not None or alias in kept:
                self._refuse(alias, self._clash(alias, clash), clash=True)
            else:
                kept.append(alias)
        doc = description or (inspect.getdoc(factory) or "").split("\n")[0]
        self._entries[name] = Entry(name, factory, config, self.current_origin, doc, tuple(kept))
        for alias in kept:
            self._aliases[alias] = name

    def _refuse(self, name: str, problem: str, clash: bool = False) -> None:
        if self.strict:
            raise PluginError(f"{self.current_origin}: {problem}")
        refusal = Refusal(self.kind, name, self.current_origin, problem, clash)
        self.refused.append(refusal)
        import warnings

        warnings.warn(f"mtdnn: refused {refusal}", RuntimeWarning, stacklevel=4)

    def _clash(self, key: str, clash: Entry | None) -> str:
        first = clash.origin if clash is not None else self.current_origin
        return (f"{self.kind} '{key}' is registered twice: by {first} and by {self.current_origin}; "
                f"the first stays (uninstall or disable one of them)")

    def _problem(self, name: Any, factory: Any, config: Any) -> str | None:
        if not _plain_name(name):
            return self._bad_name(repr(name))
        if self._lookup(name) is not None:
            return self._clash(name, self._lookup(name))
        if self.instance_of is not None and not isinstance(factory, self.instance_of):
            return f"{self.kind} '{name}' must be a {self.instance_of.__name__}, got {type(factory).__name__}"
        if self.base is not None and inspect.isclass(factory) and not issubclass(factory, self.base):
            return f"{self.kind} '{name}' must subclass {self.base.__name__}"
        if self.instance_of is None and not callable(factory):
            return f"{self.kind} '{name}' is not callable"
        if config is not None and not (inspect.isclass(config) and issubclass(config, BaseModel)):
            return f"config of {self.kind} '{name}' must be a pydantic model"
        if self.entry_problem is not None:
            return self.entry_problem(name, factory)
        return None

    def _bad_name(self, what: str) -> str:
        return (f"{self.kind} name {what} is not a plain name: a letter or '_' first, then letters, digits, "
                f"'_', '-' or '.' (no spaces, ',', ':', '=' or '/')")

    def _lookup(self, name: str) -> Entry | None:
        return self._entries.get(self._aliases.get(name, name))

    def __contains__(self, name: str) -> bool:
        return self._lookup(name) is not None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def names(self) -> list[str]:
        return sorted(self._entries)

    def get(self, name: str) -> Entry:
        entry = self._lookup(name)
        if entry is None:
            refused = [str(r) for r in self.refused if r.name == name]
            hint = f"refused: {'; '.join(refused)}" if refused else ""
            if not hint and self.missing_hint:
                hint = self.missing_hint(name)
            raise UnknownNameError(self.kind, name, [*self._entries, *self._aliases], hint)
        return entry

    def validate_config(self, name: str, params: dict | BaseModel | None, where: str = "") -> BaseModel | dict:
        """Validate ``params`` against the entry's config model; errors name the keys. An
        instance of that model (validated before, e.g. in the run plan) is taken as it is."""
        entry = self.get(name)
        if entry.config is not None and isinstance(params, entry.config):
            return params
        params = dict(params or {})
        if entry.config is None:
            return params
        try:
            return entry.config(**params)
        except ValidationError as exc:
            raise ConfigError(
                [f"{where}{'.'.join(map(str, e['loc']))}: {_param_message(e, entry.config)}" for e in exc.errors()],
                source=f"{self.kind} '{name}' config",
            ) from None

    def build(self, name: str, params: dict | BaseModel | None = None, /, **runtime: Any) -> T:
        """Instantiate entry ``name`` with runtime arguments plus validated ``params``."""
        entry = self.get(name)
        config = self.validate_config(name, params)
        if isinstance(config, BaseModel) and _takes_config(entry.factory):
            kwargs = {**runtime, "config": config}  # one place for every default: the model
        else:
            kwargs = {**runtime, **(config.model_dump() if isinstance(config, BaseModel) else config)}
        self._check_signature(entry, kwargs)
        obj = entry.factory(**kwargs)
        if self.base is not None and not inspect.isclass(entry.factory) and not isinstance(obj, self.base):
            raise PluginError(
                f"{entry.origin}: {self.kind} '{name}' returned {type(obj).__name__}, "
                f"expected a {self.base.__name__}"
            )
        return obj


    def _check_signature(self, entry: Entry, kwargs: dict[str, Any]) -> None:
        """A factory that cannot take what the core passes is the plugin's error, said before
        the call rather than as a ``TypeError`` from somewhere inside it."""
        try:
            signature = inspect.signature(entry.factory)
        except (TypeError, ValueError):  # builtins without a signature: let the call decide
            return
        try:
            signature.bind(**kwargs)
        except TypeError as exc:
            raise PluginError(
                f"{entry.origin}: {self.kind} '{entry.name}' cannot be built: its factory "
                f"{getattr(entry.factory, '__qualname__', entry.factory)}{signature} does not accept the arguments "
                f"the core passes ({', '.join(kwargs) or 'none'}): {exc}; fix the plugin '{entry.origin.plugin}'"
            ) from None


def _task_type_problem(name: str, task_type: Any) -> str | None:
    """A task type without a required method, refused when it registers rather than when the
    first evaluation calls it."""
    from mtdnn_core.task_types import missing_methods

    missing = missing_methods(task_type)
    if not missing:
        return None
    signatures = {"decoder": "decoder(task, head) returning a Decoder (evaluation and `mtdnn predict` call it)"}
    return (f"task type '{name}' ({type(task_type).__name__}) does not implement "
            f"{'; '.join(signatures[m] for m in missing)}; implement it, or subclass Classification for "
            f"softmax defaults (docs/plugins.md, Task type)")


def _plain_name(name: Any) -> bool:
    return isinstance(name, str) and NAME_PATTERN.fullmatch(name) is not None


def _takes_config(factory: Any) -> bool:
    """Whether a factory takes its validated config object as ``config=`` (the current
    convention) rather than the config's fields as keyword arguments (still supported)."""
    try:
        target = factory.__init__ if inspect.isclass(factory) else factory
        return "config" in inspect.signature(target).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


KINDS = (
    "task_types",
    "encoders",
    "heads",
    "losses",
    "metrics",
    "samplers",
    "optimizers",
    "schedulers",
    "data_formats",
    "tasks",
    "regularizers",
    "reporters",
    "task_def_fields",
)


class Registries:
    """All registries of one plugin host, one attribute per kind."""

    def __init__(self) -> None:
        from mtdnn_core.data.formats import DataFormat
        from mtdnn_core.losses import Loss
        from mtdnn_core.metrics import Metric
        from mtdnn_core.model.heads import Head
        from mtdnn_core.regularizers import Regularizer
        from mtdnn_core.samplers import TaskSampler
        from mtdnn_core.task_types import TaskType
        from mtdnn_core.task_settings import TaskDefField
        from mtdnn_core.tasks import Task

        self.task_types: Registry[TaskType] = Registry("task type", instance_of=TaskType,
                                                       entry_problem=_task_type_problem)
        self.encoders: Registry[Any] = Registry("encoder")  # factory(spec, **config) -> (model, tokenizer)
        self.heads: Registry[Head] = Registry("head", base=Head)
        self.losses: Registry[Loss] = Registry("loss", base=Loss)
        self.metrics: Registry[Metric] = Registry("metric", instance_of=Metric)
        self.samplers: Registry[TaskSampler] = Registry("sampler", base=TaskSampler)
        self.optimizers: Registry[Any] = Registry("optimizer")  # factory(param_groups, lr, **config)
        self.schedulers: Registry[Any] = Registry("scheduler")  # factory(optimizer, warmup, total, **config)
        self.data_formats: Registry[DataFormat] = Registry("data format", instance_of=DataFormat)
        self.tasks: Registry[Task] = Registry("task", instance_of=Task)
        self.regularizers: Registry[Regularizer] = Registry("regularizer", base=Regularizer)
        self.reporters: Registry[Any] = Registry("reporter")  # classes built as cls(run); see observers.Reporter
        self.task_def_fields: Registry[TaskDefField] = Registry("task definition key", instance_of=TaskDefField)

    def __iter__(self) -> Iterator[tuple[str, Registry[Any]]]:
        for kind in KINDS:
            yield kind, getattr(self, kind)


def _param_message(error: dict, config: type) -> str:
    """A parameter's validation message; an unknown one gets the closest known name or, for
    ``key:value`` (YAML's reading of a key glued to its value), how to write it."""
    if error.get("type") != "extra_forbidden" or not error.get("loc"):
        return str(error["msg"])
    key = str(error["loc"][-1])
    fields = getattr(config, "model_fields", {}) if len(error["loc"]) == 1 else {}
    return f"unknown parameter{did_you_mean(key, fields)}{colon_hint(key)}"
