"""Typed configuration: task definitions and the training config.

Task definitions load from the original toolkit's YAML format unchanged (one mapping per task
name); the native format adds ``head``, ``head_config``, ``loss_config``, ``max_seq_len`` and
``requires``. Structural problems are caught by pydantic; names of components (losses,
metrics, heads, formats) are checked against the registries by :func:`check_task_defs`, so
every problem of a file is reported at once, each with its file, line and key.
"""
from __future__ import annotations

import difflib
import json
import re
import warnings
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from mtdnn_core.errors import ConfigError, colon_hint, did_you_mean
from mtdnn_core.builtin.original_names import ORIGINAL_NAMES, is_original, original_kinds

def error_message(err: dict) -> str:
    """A pydantic error's message without the ``Value error, `` its validators' messages get."""
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ") if err.get("type") == "value_error" else msg


class TaskDef(BaseModel):
    """One task: what its data looks like, what it predicts and how it is trained and scored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    task_type: str = Field(description="a registered task type (classification, regression, ranking, sequence_labeling, ...)")
    data_format: str
    n_class: int | None = Field(default=None, ge=1)
    labels: list[str] | None = None
    metric_meta: list[str] = Field(default_factory=list)
    loss: str | None = None
    enable_san: bool = False
    dropout_p: float | None = Field(default=None, ge=0.0, lt=1.0)
    split_names: list[str] = Field(default_factory=lambda: ["train", "dev", "test"])
    encoder_type: str | None = Field(default=None, description=(
        "the original toolkit's encoder family (BERT, ROBERTA, ...): checked, informational; the run's encoder "
        "is `encoder`"))
    # native additions
    head: str | None = None
    head_config: dict[str, Any] = Field(default_factory=dict)
    loss_config: dict[str, Any] = Field(default_factory=dict)
    max_seq_len: int | None = Field(default=None, ge=8)
    requires: dict[str, str] = Field(default_factory=dict)
    description: str = ""
    settings: dict[str, Any] = Field(default_factory=dict, description=(
        "keys plugins declare (register_task_def_fields), written as top-level keys of the definition"))

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, labels: list[str] | None) -> list[str] | None:
        if labels is not None:
            labels = [str(label) for label in labels]
            dupes = sorted({label for label in labels if labels.count(label) > 1})
            if dupes:
                raise ValueError(f"labels repeat: {dupes}")
        return labels

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """What the definition itself implies; the task type's defaults come in :func:`complete_task_def`."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        extra = {key: data.pop(key) for key in [k for k in data if k not in cls.model_fields]}
        if extra:  # plugins' keys; checked against what they declare in check_task_defs
            settings = data.get("settings")
            data["settings"] = {**(settings if isinstance(settings, dict) else {}),
                                **{k: v for k, v in extra.items() if v is not None}}
            if settings is not None and not isinstance(settings, dict):
                data["settings"] = settings  # let pydantic say what is wrong with it
        if data.get("n_class") is None and isinstance(data.get("labels"), list):
            data["n_class"] = len(data["labels"])
        if data.get("head") is None and data.get("enable_san"):
            data["head"] = "san"
        return data

    @model_validator(mode="after")
    def _labels_match_n_class(self) -> TaskDef:
        if self.labels is not None and self.n_class != len(self.labels):
            raise ValueError(f"n_class is {self.n_class} but {len(self.labels)} labels are listed; leave n_class out "
                             f"(with labels it is their number; a head that outputs another size, such as K-1 "
                             f"thresholds, computes it from n_class)")
        return self

    @property
    def label_to_id(self) -> dict[str, int] | None:
        return None if self.labels is None else {label: i for i, label in enumerate(self.labels)}

    def dataset_task(self, dataset: str) -> bool:
        """True if a dataset name (``mnli_matched``, ``scitail_001``) belongs to this task."""
        return dataset == self.name or dataset.split("_", 1)[0] == self.name


def task_of_dataset(dataset: str) -> str:
    """Dataset names map to tasks by prefix, as in the original: ``mnli_matched`` -> ``mnli``."""
    return dataset.split("_", 1)[0]


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, reading numbers as YAML 1.2 and Python do: ``1e-5`` is a float
    (YAML 1.1 wants ``1.0e-5`` and makes ``1e-5`` a string, which a plugin's parameters would
    then hold as text)."""


# PyYAML reads an exponent as a float only with a dot and a signed exponent (1.0e-5); these are
# the other forms (1e-5, 1.5e3, .5e3). add_implicit_resolver copies SafeLoader's table first.
EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
YamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", EXPONENT_FLOAT, list("-+0123456789."))


def as_read_now(value: Any) -> Any:
    """``value`` (a saved setting) with the numbers that PyYAML's rules left as strings
    (``'1e-05'``, as earlier versions saved them) read as the floats they now are."""
    if isinstance(value, str) and EXPONENT_FLOAT.match(value):
        return float(value.replace("_", ""))
    if isinstance(value, dict):
        return {k: as_read_now(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_read_now(v) for v in value]
    return value


class _LineLoader(YamlLoader):
    """A safe loader that remembers the line of every mapping key."""


# Aliases (``*name``) may repeat anchored parts, but a few hundred bytes of nested aliases expand
# to billions of nodes ("billion laughs") and hang whatever walks the result; a real config
# repeats far less than this.
MAX_ALIAS_EXPANSION = 10_000


def check_alias_expansion(root: yaml.Node | None, source: str) -> None:
    """Refuse a composed YAML document whose aliases add more than :data:`MAX_ALIAS_EXPANSION`
    nodes once expanded, or refer to themselves. Linear in the document's size."""
    if root is None:
        return
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: a deep document must not exhaust the recursion limit
        node, done = stack.pop()
        key = id(node)
        if done:
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            open_nodes.discard(key)
            continue
        if key in sizes:
            aliases += 1
            continue
        if key in open_nodes:
            mark = node.start_mark
            raise ConfigError([f"{source}:{mark.line + 1}: an alias refers to the anchor it is inside of (a "
                               f"recursive structure); write the values out"], source)
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(_children(node)))
    composed = len(sizes)
    expanded = sizes[id(root)]
    if expanded - composed > MAX_ALIAS_EXPANSION:
        raise ConfigError([f"{source}: its aliases (*name) expand it from {composed} to {expanded} values, more than "
                           f"{MAX_ALIAS_EXPANSION} added; write the repeated parts out or use fewer aliases"], source)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_yaml(text: str, source: str) -> Any:
    """Safe-load one YAML value (``--set KEY=VALUE``), its alias expansion bounded."""
    check_alias_expansion(yaml.compose(text, Loader=YamlLoader), source)
    return yaml.load(text, Loader=YamlLoader)


def _load_with_lines(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    lines: dict[tuple, int] = {}
    try:
        root = yaml.compose(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"], source) from None
    check_alias_expansion(root, source)

    duplicates: list[str] = []
    values: dict[tuple, yaml.Node] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                key_path = (*path, key.value)
                if key_path in lines:  # YAML keeps the last one silently: a lost setting, unless both agree
                    where = f"{source}:{key.start_mark.line + 1}: {'.'.join(map(str, key_path))}"
                    if _same_value(values[key_path], value):
                        warnings.warn_explicit(f"mtdnn: {source}: {'.'.join(map(str, key_path))}: lines {lines[key_path]} "
                                               f"and {key.start_mark.line + 1} give the same value; one of the two can go",
                                               UserWarning, source, key.start_mark.line + 1)
                        continue
                    duplicates.append(f"{where}: duplicate key (first at line {lines[key_path]}) with a different "
                                      f"value; keep one")
                lines[key_path] = key.start_mark.line + 1
                values[key_path] = value
                walk(value, key_path)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                lines[(*path, i)] = value.start_mark.line + 1
                walk(value, (*path, i))

    if root is not None:
        walk(root, ())
    if duplicates:
        raise ConfigError(duplicates, source)
    try:
        return yaml.load(text, Loader=_LineLoader), lines
    except yaml.YAMLError as exc:  # e.g. a tag the safe loader refuses to construct
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError([f"{where}: not valid YAML here ({getattr(exc, 'problem', None) or exc})"], source) from None


def _same_value(first: yaml.Node, second: yaml.Node) -> bool:
    """Whether two YAML nodes hold the same data (``False`` and ``0`` differ, as do ``1`` and ``1.0``)."""
    loader = _LineLoader("")
    try:
        a, b = (loader.construct_object(n, deep=True) for n in (first, second))
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(b, sort_keys=True, default=repr)


def _nearest_line(lines: dict[tuple, int], path: tuple) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def load_task_defs(path: str | Path, fields: Any = None) -> dict[str, TaskDef]:
    """Read a task-definition YAML file; raise one :class:`ConfigError` listing every problem
    (``fields``: the keys plugins declared, see :func:`parse_task_defs_partially`)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"{path}: no such file"], str(path))
    return parse_task_defs(_read_text(path), str(path), fields=fields)


def task_def_lines(path: str | Path) -> dict[tuple, int]:
    """Line of every key of a task-definition file (for messages about names in it)."""
    try:
        with warnings.catch_warnings():  # the file's loading warns already
            warnings.simplefilter("ignore")
            return _load_with_lines(_read_text(Path(path)), str(path))[1]
    except ConfigError:
        return {}


def parse_task_defs(text: str, source: str = "<task definitions>", task_types: Any = None,
                    fields: Any = None) -> dict[str, TaskDef]:
    """Task definitions from YAML text; with a ``task_types`` registry, completed with what each
    task type implies (see :func:`complete_task_def`); ``fields`` as in :func:`parse_task_defs_partially`."""
    defs = _parse_task_defs(text, source, fields)
    if task_types is not None:
        defs = {name: complete_task_def(d, task_types) for name, d in defs.items()}
    return defs


def _parse_task_defs(text: str, source: str, fields: Any = None) -> dict[str, TaskDef]:
    defs, problems = parse_task_defs_partially(text, source, fields)
    if problems:
        raise ConfigError(problems, source)
    return defs


def parse_task_defs_partially(text: str, source: str, fields: Any = None) -> tuple[dict[str, TaskDef], list[str]]:
    """The definitions that parse, and the problems of those that do not (``mtdnn validate``
    reports both at once).

    Keys beyond the core's are plugins' (see :mod:`mtdnn_core.task_settings`): with ``fields``
    (the ``task_def_fields`` registry) each must be declared; without it only a near miss of a
    core key is refused here, the rest is checked by :func:`check_task_defs`."""
    data, lines = _load_with_lines(text, source)
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected a mapping of task name -> definition"], source)
    problems: list[str] = []
    defs: dict[str, TaskDef] = {}
    for name, body in data.items():
        name = str(name)
        where = f"{source}:{lines.get((name,), '?')}"
        if "_" in name:
            problems.append(
                f"{where}: task name '{name}' contains '_' (dataset names map to tasks by the prefix "
                f"before '_'); rename it to '{name.replace('_', '')}'"
            )
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}: task '{name}' must be a mapping of keys")
            continue
        known_keys = len(problems)
        for key in body:
            problem = _undeclared_key(str(key), fields, parsing=True)
            if problem:
                problems.append(f"{source}:{lines.get((name, key), lines.get((name,), '?'))}: {name}.{key}: {problem}")
        try:
            task = TaskDef(name=name, **body)
            if len(problems) == known_keys:
                defs[name] = task
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                line = _nearest_line(lines, (name, *loc)) or lines.get((name,), "?")
                key = ".".join(map(str, (name, *loc))) if loc else name
                msg = error_message(err)
                if err["type"] == "extra_forbidden":
                    msg = f"unknown key{did_you_mean(str(loc[-1]), TaskDef.model_fields)}{colon_hint(loc[-1])}"
                problems.append(f"{source}:{line}: {key}: {msg}")
    return defs, problems


#: how close (difflib ratio) a key must be to a core key to be refused as its misspelling when
#: the keys plugins declare are not known
NEAR_MISS = 0.8


def _undeclared_key(key: str, fields: Any, parsing: bool = False) -> str:
    """Why ``key`` may not appear in a task definition, or ``""``: a core key, a key a loaded
    plugin declared, or the original toolkit's key that no loaded plugin uses, are fine."""
    if key in TaskDef.model_fields:
        return ""
    if fields is not None and key in fields:
        return ""
    if is_original("task definition key", key):
        return ""
    core = [k for k in TaskDef.model_fields if k not in ("name", "settings")]
    if fields is None:  # what plugins declare is not known here: refuse only a clear misspelling
        if not parsing:
            return "unknown key"
        near = difflib.get_close_matches(key, core, n=1, cutoff=NEAR_MISS)
        return f"unknown key; did you mean '{near[0]}'?" if near else ""
    suggestion = did_you_mean(key, [*core, *fields.names(), *ORIGINAL_NAMES["task definition key"]])
    message = f"unknown key{suggestion}"
    meant = suggestion.split("'")[1] if suggestion else key
    hint = fields.missing_hint(meant) if fields.missing_hint and meant not in fields and meant not in core else ""
    if hint.startswith("provided by"):  # a key of a plugin that is installed but not loaded
        message += f" ({hint})"
    return message


def task_loss(definition: TaskDef, task_type: Any) -> str | None:
    """The loss a task trains with: the definition's ``loss``, else its task type's default
    (the one place this is decided)."""
    return definition.loss if definition.loss is not None else task_type.default_loss


def complete_task_def(task: TaskDef, task_types: Any) -> TaskDef:
    """``task`` with what its task type implies filled in (output size, losses, metrics, head) and
    the type's canonical name; raises :class:`UnknownNameError` for a type no plugin provides."""
    return complete_with_type(task, task_types.get(task.task_type))


def complete_with_type(task: TaskDef, entry: Any) -> TaskDef:
    """:func:`complete_task_def` with the task type's registry ``entry`` already looked up."""
    kind = entry.factory
    filled: dict[str, Any] = {"task_type": entry.name}
    if task.n_class is None:
        filled["n_class"] = kind.default_n_class(task)
    if task.loss is None and kind.default_loss is not None:
        filled["loss"] = task_loss(task, kind)
    if not task.metric_meta and kind.default_metrics:
        filled["metric_meta"] = list(kind.default_metrics)
    if task.head is None:
        filled["head"] = kind.default_head
    return task.model_copy(update=filled)


def check_task_defs(defs: dict[str, TaskDef], registries: Any, source: str = "", lines: dict | None = None,
                    entries: dict[str, Any] | None = None) -> list[str]:
    """Names each definition uses that no loaded plugin provides (with did-you-mean), and
    combinations that cannot work (a format the task type does not read, a head made for other
    task types). ``entries`` holds task type registry entries already looked up, by task name."""
    problems: list[str] = []
    prefix = f"{source}: " if source else ""
    for name, task in defs.items():
        before = len(problems)
        _check_task_def(name, task, registries, prefix, problems, (entries or {}).get(name))
        if lines:  # name the line of the key each problem is about
            for i in range(before, len(problems)):
                key = problems[i][len(prefix):].split(":", 1)[0].split(".")
                line = _nearest_line(lines, tuple(key[:2])) or lines.get((name,))
                if line:
                    problems[i] = f"{source}:{line}: {problems[i][len(prefix):]}"
    return problems


def _check_task_def(name: str, task: TaskDef, registries: Any, prefix: str, problems: list[str],
                    entry: Any = None) -> None:
    """Problems of one definition, appended to ``problems``."""
    where = f"{prefix}{name}"
    if task.encoder_type is not None and not is_original("encoder type", task.encoder_type):
        known = ORIGINAL_NAMES["encoder type"]
        problems.append(f"{where}.encoder_type: no encoder type '{task.encoder_type}'{did_you_mean(task.encoder_type, known)} "
                        f"(the original toolkit's: {', '.join(known)}; the run's encoder is chosen with --encoder)")
    if task.task_type not in registries.task_types:
        problems.append(f"{where}.task_type: {_unknown(registries.task_types, task.task_type, registries)}")
        return
    entry = entry or registries.task_types.get(task.task_type)
    task = complete_with_type(task, entry)
    kind = entry.factory
    problems.extend(f"{where}.{p}" for p in kind.check(task))
    if task.data_format in registries.data_formats:
        from mtdnn_core.task_types import needs_parse_label

        data_format = registries.data_formats.get(task.data_format)
        if kind.formats is not None and data_format.name not in kind.formats and task.data_format not in kind.formats:
            problems.append(f"{where}.data_format: task type {task.task_type} reads {', '.join(kind.formats)}, not {task.data_format}")
        elif needs_parse_label(kind, data_format.factory):
            problems.append(
                f"{where}.task_type: task type '{entry.name}' ({type(kind).__name__}, from plugin {entry.origin}) does not "
                f"implement parse_label(raw, task, where), which data format '{data_format.name}' calls for every label "
                f"cell; implement it in the task type, or subclass Classification (docs/plugins.md, Task type)")
    checks = [("data_format", registries.data_formats, [task.data_format])]
    checks.append(("metric_meta", registries.metrics, task.metric_meta))
    if task.loss:
        checks.append(("loss", registries.losses, [task.loss]))
    for key, value in task.settings.items():
        problem = _undeclared_key(key, registries.task_def_fields)
        if problem:
            problems.append(f"{where}.{key}: {problem}")
        elif key in registries.task_def_fields:
            declared = registries.task_def_fields.get(key).factory
            problems.extend(f"{where}.{key}: {p}" for p in declared.problems(value, registries))
    if task.head:
        checks.append(("head", registries.heads, [task.head]))
    elif kind.default_head is None:
        problems.append(f"{where}.head: task type {task.task_type} has no default head; name one with `head:`")
    for key, registry, values in checks:
        for value in values:
            if value not in registry:
                problems.append(f"{where}.{key}: {_unknown(registry, value, registries)}")
    if task.head and task.head in registries.heads:
        _check_head(name, task, registries, prefix, problems)
    if task.loss and task.loss in registries.losses and task.loss_config:
        try:
            registries.losses.validate_config(task.loss, task.loss_config, where=f"{name}.loss_config.")
        except ConfigError as exc:
            problems.extend(f"{prefix}{p}" for p in exc.problems)


def _check_head(name: str, task: TaskDef, registries: Any, prefix: str, problems: list[str]) -> None:
    """A named, installed head: made for the task's type, and its ``head_config`` valid."""
    allowed = getattr(registries.heads.get(task.head).factory, "task_types", None)
    if allowed is not None and task.task_type not in allowed:
        key = "enable_san" if task.enable_san else "head"
        problems.append(f"{prefix}{name}.{key}: head '{task.head}' works with {', '.join(allowed)} tasks, not {task.task_type}")
    if task.head_config:
        try:
            registries.heads.validate_config(task.head, task.head_config, where=f"{name}.head_config.")
        except ConfigError as exc:
            problems.extend(f"{prefix}{p}" for p in exc.problems)


def override_task(task: TaskDef, changes: dict[str, Any], source: str = "task_overrides") -> TaskDef:
    """A copy of ``task`` with ``changes`` applied; defaults implied by changed keys are recomputed."""
    raw = task.model_dump(exclude_unset=True)
    if "enable_san" in changes and "head" not in changes and raw.get("head") in ("san", "pooler"):
        raw.pop("head", None)
    try:
        return TaskDef(**{**raw, **changes})
    except ValidationError as exc:
        raise ConfigError([f"{source}.{task.name}.{'.'.join(map(str, e['loc']))}: {error_message(e)}" for e in exc.errors()], source) from None


def unavailable_tasks(defs: dict[str, TaskDef], registries: Any) -> dict[str, str]:
    """The definitions whose task type or data format no loaded plugin provides although the name
    is a real one (the original toolkit's, or an installed plugin's), each with what would
    provide it. Such a task cannot be trained here, but the rest of its file can."""
    out: dict[str, str] = {}
    for name, task in defs.items():
        reasons = []
        for key, registry in (("task_type", registries.task_types), ("data_format", registries.data_formats)):
            value = getattr(task, key)
            if value in registry:
                continue
            provider = _provider(registry, value)
            if provider:
                reasons.append(f"{registry.kind} '{value}' is {provider}")
            elif is_original(registry.kind, value):
                reasons.append(f"{registry.kind} '{value}' (the original toolkit's) is provided by no installed plugin")
        if reasons:
            out[name] = "; ".join(reasons)
    return out


def _provider(registry: Any, value: str) -> str:
    """``"provided by plugin X: add --plugin X"`` when an installed, unloaded plugin provides ``value``."""
    hint = registry.missing_hint(value) if registry.missing_hint else ""
    return hint if hint.startswith("provided by") else ""


def _unknown(registry: Any, value: str, registries: Any = None) -> str:
    """Why ``value`` is not a name of ``registry``: never a did-you-mean of another kind of thing,
    none for a real name that is only not provided here."""
    try:
        registry.get(value)
    except KeyError as exc:
        message = str(exc)
    else:
        return ""
    if is_original(registry.kind, value):
        provider = _provider(registry, value) or "provided by no installed plugin"
        return f"no {registry.kind} '{value}' loaded: the original toolkit's {registry.kind} '{value}' is {provider}"
    other = [k for k in original_kinds(value) if k != registry.kind]
    if registries is not None:
        other += [r.kind for _, r in registries if r is not registry and value in r and r.kind not in other]
    if other:
        return (f"'{value}' is a {other[0]}, not a {registry.kind}; {registry.kind}s loaded: "
                f"{', '.join(sorted(registry.names())) or '(none)'}")
    return message


def parse_dataset_name(name: str) -> tuple[str, float | None]:
    """``scitail_001`` -> (``scitail``, 0.001): the original toolkit's names for training subsets
    (``_001`` 0.1%, ``_01`` 1%, ``_1`` 10%); a name without ``_`` is the whole task."""
    task, sep, suffix = name.partition("_")
    if not sep:
        return name, None
    if not suffix.isdigit():
        raise ConfigError([f"tasks: '{name}': the part after '_' must be digits ({task}_001 = 0.1%, {task}_1 = 10%)"], "tasks")
    return task, float("0." + suffix)


class RegularizerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    params: dict[str, Any] = Field(default_factory=dict)


def _is_number_type(annotation: Any) -> bool:
    """``int``, ``float`` or an optional one (not a type that also takes ``bool``)."""
    import typing

    options = typing.get_args(annotation) or (annotation,)
    return bool(set(options) & {int, float}) and bool not in options


class TrainConfig(BaseModel):
    """Everything ``mtdnn train`` needs, validated before any model is loaded. The command-line
    options of ``mtdnn train`` are generated from these fields (their descriptions are the help)."""

    # no infinite or NaN settings (an infinite learning rate trained to a diverged model, and
    # config.json then held ``Infinity``, which strict JSON readers refuse)
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, value: Any, info: ValidationInfo) -> Any:
        """pydantic reads ``true`` as 1 for a number (``lr=true`` trained at lr 1.0)."""
        if isinstance(value, bool) and _is_number_type(cls.model_fields[info.field_name].annotation):
            raise ValueError(f"a number is expected, not {str(value).lower()}")
        return value

    tasks: list[str] = Field(min_length=1, description="comma-separated task names (`mtdnn plugins` lists them); TASK_01: 1% of TASK's training set")
    encoder: str = Field(default="all-minilm-l6-v2",
                         description="a registered encoder (all-minilm-l6-v2, tiny-random-bert), a hub name or a directory")
    encoder_config: dict[str, Any] = Field(default_factory=dict, description="encoder options, e.g. {num_layers: 3, freeze: true}")
    data_dir: str | None = None
    train_fraction: dict[str, float] = Field(
        default_factory=dict, description="train on a deterministic share of a task's training set, e.g. {TASK: 0.01}"
    )
    task_data_dirs: dict[str, str] = Field(default_factory=dict, description="a data directory per task, overriding data_dir")
    task_def: list[str] = Field(default_factory=list)
    task_overrides: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-task changes to the definitions, e.g. {TASK: {enable_san: false}}"
    )
    output_dir: str = Field(default="runs/mtdnn", description="where checkpoints, scores and logs go")
    cache_dir: str | None = Field(default=None, description="tokenized-feature cache (default: OUTPUT_DIR/cache)")
    plugins: list[str] = Field(default_factory=list)

    epochs: int = Field(default=3, ge=0, description="training epochs (0: evaluate only)")
    max_steps: int | None = Field(default=None, ge=1, description="stop after this many optimizer updates")
    batch_size: int = Field(default=32, ge=1, description="training batch size")
    eval_batch_size: int = Field(default=64, ge=1, description="evaluation batch size")
    max_seq_len: int = Field(default=128, ge=8, description="maximum tokens per input (longer inputs are truncated, longest first)")
    max_train_samples: int | None = Field(default=None, ge=1, description="use only the first N rows of each training set")
    max_eval_samples: int | None = Field(default=None, ge=1, description="use only the first N rows of each dev/test set")
    eval_splits: list[str] | None = Field(default=None, description="comma-separated splits to score, e.g. dev (a name "
                                          "matches a split or its last part: dev matches matched_dev); default: every "
                                          "dev/test set found")

    sampler: str = Field(default="proportional", description="multi-task schedule: proportional, temperature, or a plugin's")
    sampler_config: dict[str, Any] = Field(default_factory=dict)
    length_bucketing: bool = Field(default=False, description="batch samples of similar length together (less padding)")
    max_tokens: int | None = Field(default=None, ge=8, description=(
        "token-budget batches: as many samples as fit in N padded tokens (implies length bucketing; "
        "batch_size is then unused)"))
    num_workers: int | None = Field(default=None, ge=0, description="DataLoader worker processes (default: 2 on CUDA, 0 on CPU)")

    optimizer: str = Field(default="adamw", description="adamw, adamax, radam, sgd, or a plugin's")
    optimizer_config: dict[str, Any] = Field(default_factory=dict)
    lr: float = Field(default=5e-5, gt=0, description="peak learning rate")
    weight_decay: float = Field(default=0.01, ge=0, description="weight decay (not applied to biases and normalization layers)")
    scheduler: str = Field(default="linear", description="linear, cosine, constant, polynomial, or a plugin's")
    scheduler_config: dict[str, Any] = Field(default_factory=dict)
    warmup: float = Field(default=0.1, ge=0, description="warm-up: a fraction of updates (<1) or a number of updates")
    grad_clip: float | None = Field(default=1.0, gt=0, description="global gradient-norm clipping")
    grad_accumulation: int = Field(default=1, ge=1, description="batches per optimizer update")
    precision: Literal["fp32", "bf16", "fp16"] = Field(default="fp32", description="mixed precision with torch.amp")
    device: str = Field(default="auto", description="auto, cpu, cuda, cuda:1, ...")
    compile: bool = Field(default=False, description=(
        "torch.compile the encoder (in place: checkpoints unchanged); lengths vary, so after the first "
        "new length it is compiled once for any length"))
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        default="default", description="torch.compile mode (reduce-overhead: CUDA graphs)")
    compile_backend: Literal["inductor", "aot_eager", "eager"] = Field(default="inductor", description=(
        "torch.compile backend: inductor generates code; aot_eager and eager trace without generating any "
        "(quick to start: for finding whether a problem is the compiler's, and for tests)"))
    fsdp: bool = Field(default=False, description=(
        "under torchrun, shard the encoder's layers and the heads over the ranks (PyTorch's fully_shard, FSDP2) "
        "for encoders that do not fit one device; checkpoints as without it"))
    regularizers: list[RegularizerConfig] = Field(default_factory=list)

    eval_every: int | None = Field(default=None, ge=1, description="also evaluate every N updates")
    save_every: int | None = Field(default=None, ge=1, description="also checkpoint every N updates")
    keep_checkpoints: int = Field(default=2, ge=1, description="checkpoints kept in the output directory (the best one is kept besides)")
    metric_for_best: str | None = Field(default=None, description=(
        "keep the best checkpoint (best.json) by TASK:METRIC, e.g. TASK:accuracy, or 'mean' of each task's first metric"))
    early_stopping: int | None = Field(default=None, ge=1, description="stop after N evaluations without improving metric_for_best")
    ema_decay: float | None = Field(default=None, gt=0, lt=1, description=(
        "evaluate (and predict with) an exponential moving average of the weights, e.g. 0.999"))
    log_every: int = Field(default=20, ge=1, description="log the training loss every N updates")
    report_to: list[str] = Field(default_factory=lambda: ["jsonl"], description=(
        "reporters, comma-separated: jsonl (log.jsonl, read by mtdnn plot), tensorboard, or a plugin's"))
    max_nonfinite_in_row: int = Field(default=20, ge=1, description="stop after this many non-finite losses in a row")
    seed: int = Field(default=2018, description="random seed")
    resume: str | None = Field(default=None, description="continue the run from this checkpoint or run directory")
    overwrite: bool = Field(default=False, description="replace a run already in the output directory")
    num_threads: int | None = Field(default=None, ge=1, description="CPU threads for torch")

    @field_validator("early_stopping")
    @classmethod
    def _early_stopping_needs_a_metric(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("metric_for_best") is None:
            raise ValueError("needs metric_for_best (TASK:METRIC or mean): it says what must improve")
        return value


def load_train_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML training config, apply CLI overrides, report every problem with its line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"{path}: no such file"], str(path))
    data, lines = _load_with_lines(_read_text(path), str(path))
    if data is not None and not isinstance(data, dict):
        hint = colon_hint(str(data).split()[0]) if isinstance(data, str) and data.strip() else ""
        raise ConfigError([f"{path}: a training config is a mapping of keys (tasks: [...], lr: ...), "
                           f"not a {type(data).__name__}{hint}"], str(path))
    data = {**(data or {}), **{k: v for k, v in (overrides or {}).items() if v is not None}}
    return build_train_config(data, str(path), lines)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8"], str(path)) from None


def build_train_config(data: dict[str, Any], source: str = "options", lines: dict | None = None) -> TrainConfig:
    data = dict(data)
    if isinstance(data.get("tasks"), list):  # subset names: scitail_001 -> task scitail on 0.1% of its data
        fractions = dict(data.get("train_fraction") or {})
        tasks = []
        for name in data["tasks"]:
            task, fraction = parse_dataset_name(str(name))
            tasks.append(task)
            if fraction is not None:
                fractions[task] = fraction
        data["tasks"] = tasks
        if fractions:
            data["train_fraction"] = fractions
    try:
        return TrainConfig(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _nearest_line(lines or {}, loc)
            where = f"{source}:{line}" if line else source
            msg = error_message(err)
            if err["type"] == "extra_forbidden":  # a top-level key is compared with the settings
                near = did_you_mean(str(loc[-1]), TrainConfig.model_fields) if len(loc) == 1 else ""
                msg = f"unknown key{near}{colon_hint(loc[-1])}"
            problems.append(f"{where}: {'.'.join(map(str, loc))}: {msg}")
        raise ConfigError(problems, source) from None
