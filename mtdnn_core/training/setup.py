"""From a validated :class:`TrainConfig` to tasks, datasets, encoder and model.

Everything that can be checked without loading a model (task names, component names, data
files) is checked first, and all problems are reported together.
"""
from __future__ import annotations

import importlib.metadata as md
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtdnn_core.config import TaskDef, TrainConfig, check_task_defs, load_task_defs, override_task
from mtdnn_core.data.features import Selection, TaskDataset, encode_file
from mtdnn_core.errors import ConfigError, DataError, MtdnnError, did_you_mean
from mtdnn_core.model.heads import Head
from mtdnn_core.model.multitask import MultiTaskModel
from mtdnn_core.plugins import PluginHost
from mtdnn_core.tasks import Task
from mtdnn_core.training.resolved import ResolvedTask, resolve_task

TRAIN_SPLIT = "train"


def _version_ok(installed: str, spec: str) -> bool:
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover
        return True
    return installed in SpecifierSet(spec) if spec else True


def resolve_tasks(config: TrainConfig, host: PluginHost) -> dict[str, Task]:
    """The tasks the run trains, from plugins and ``--task-def`` files, checked together."""
    return plan_tasks(config, host)[0]


def plan_tasks(config: TrainConfig, host: PluginHost) -> tuple[dict[str, Task], dict[str, ResolvedTask]]:
    """:func:`resolve_tasks` and each task resolved (:class:`ResolvedTask`), its task type looked
    up once."""
    registries = host.registries
    from_files: dict[str, Task] = {}
    problems: list[str] = []
    for path in config.task_def:
        try:
            for name, definition in load_task_defs(path, registries.task_def_fields).items():
                # a file may redefine a plugin's task (another head, loss...); its data layout stays
                locate = registries.tasks.get(name).factory.locate if name in registries.tasks else None
                from_files[name] = Task(definition, locate=locate)
        except ConfigError as exc:
            problems.extend(exc.problems)
    chosen: dict[str, Task] = {}
    for name in config.tasks:
        if name in from_files:
            chosen[name] = from_files[name]
        elif name in registries.tasks:  # by its name or an alias: the run calls it what was asked for
            task = registries.tasks.get(name).factory
            chosen[name] = task if task.name == name else Task(task.definition.model_copy(update={"name": name}), task.locate)
        elif from_files and did_you_mean(name, from_files):  # a typo of a task of the --task-def files
            problems.append(f"tasks: no task '{name}'{did_you_mean(name, from_files)} "
                            f"(the --task-def files define {', '.join(from_files)})")
        else:
            try:
                registries.tasks.get(name)
            except KeyError as exc:
                problems.append(f"tasks: {exc}")
    for name, changes in config.task_overrides.items():
        if name not in config.tasks:
            problems.append(f"task_overrides: '{name}' is not one of the run's tasks ({', '.join(config.tasks)})")
        elif name in chosen:
            try:
                chosen[name] = Task(override_task(chosen[name].definition, changes), chosen[name].locate)
            except ConfigError as exc:
                problems.extend(exc.problems)
    defs = {name: task.definition for name, task in chosen.items()}
    entries = {name: registries.task_types.get(d.task_type) for name, d in defs.items()
               if d.task_type in registries.task_types}
    problems.extend(check_task_defs(defs, registries, entries=entries))
    for name in config.task_data_dirs:
        if name not in config.tasks:
            problems.append(f"task_data_dirs: '{name}' is not one of the run's tasks ({', '.join(config.tasks)})")
    for name, task in chosen.items():
        for plugin, spec in task.definition.requires.items():
            info = host.info.get(plugin)
            if info is None:
                problems.append(f"{name}.requires: plugin '{plugin}' is not loaded; add --plugin {plugin}")
            elif info.error:
                problems.append(f"{name}.requires: plugin '{plugin}' failed to load ({info.error}); fix or reinstall it")
            elif info.version and not _version_ok(info.version, spec):
                problems.append(f"{name}.requires: plugin '{plugin}' {info.version} does not satisfy '{spec}'")
    if problems:
        raise ConfigError(problems, "the run's tasks")
    resolved = {name: resolve_task(task.definition, registries, entries[name]) for name, task in chosen.items()}
    return {name: Task(resolved[name].definition, task.locate) for name, task in chosen.items()}, resolved


def find_task_files(tasks: dict[str, Task], data_dirs: dict[str, str | None], work_dir: Path,
                    need_train: bool) -> dict[str, dict[str, Path]]:
    """Each task's ``{split: file}`` from its data directory (``data_dirs[task]``); a missing
    training file is an error naming what was looked for."""
    problems = []
    found: dict[str, dict[str, Path]] = {}
    for name, task in tasks.items():
        data_dir = data_dirs.get(name)
        if data_dir is None:
            problems.append(f"task '{name}': no --data-dir given")
            continue
        if not Path(data_dir).is_dir():
            problems.append(f"task '{name}': data directory {data_dir} does not exist")
            continue
        files = task.find_data(Path(data_dir), work_dir)
        if need_train and TRAIN_SPLIT not in files:
            problems.append(
                f"task '{name}': no training file in {data_dir} (expected {name}_train.tsv in the canonical "
                f"layout, or a layout a plugin understands)"
            )
        found[name] = files
    if problems:
        raise DataError("\n".join(problems))
    return found


def task_data_dirs(config: TrainConfig, host: PluginHost) -> dict[str, str | None]:
    """Where each task's data lives: ``task_data_dirs`` first, then ``data_dir``; symbolic names
    (``glue:sample``) are resolved by plugins."""
    out = {}
    for name in config.tasks:
        value = config.task_data_dirs.get(name, config.data_dir)
        out[name] = host.resolve_data_dir(value) if value else None
    return out


def build_encoder(config: TrainConfig, host: PluginHost):
    """A registered encoder by name, else any Hugging Face name or directory (``hf``)."""
    registries = host.registries
    name = config.encoder if config.encoder in registries.encoders else "hf"
    if name == "hf" and not Path(config.encoder).expanduser().exists():
        registered = [n for n in registries.encoders.names() if n != "hf"]
        hint = did_you_mean(config.encoder, registered)
        problem = _not_a_hub_id(config.encoder)
        if problem or (hint and "/" not in config.encoder):  # a typo of a registered name: no hub round trips
            raise MtdnnError(f"encoder '{config.encoder}': {problem or 'not a registered encoder nor a local directory'}"
                             f"{hint} Registered encoders: {', '.join(registered)}; or a Hugging Face hub name "
                             f"(namespace/name) or a local model directory.")
    try:
        return registries.encoders.build(name, config.encoder_config, spec=config.encoder)
    except MtdnnError as exc:
        if name != "hf":
            raise
        registered = [n for n in registries.encoders.names() if n != "hf"]
        raise MtdnnError(f"{exc}{did_you_mean(config.encoder, registered)} Registered encoders: {', '.join(registered)}.") from None


def _not_a_hub_id(name: str) -> str:
    try:
        from huggingface_hub.utils import HFValidationError, validate_repo_id
    except ImportError:  # pragma: no cover
        return ""
    try:
        validate_repo_id(name)
    except HFValidationError as exc:
        return f"not a valid hub name ({str(exc).splitlines()[0]})"
    return ""


def check_lengths(config: TrainConfig, defs: dict[str, TaskDef], encoder: Any, tokenizer: Any) -> None:
    """Refuse a maximum length beyond the encoder's position embeddings (it would crash mid-run)."""
    limit = getattr(encoder.config, "max_position_embeddings", None)
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and model_max < 100_000:
        limit = min(limit, model_max) if limit else model_max
    if not limit:
        return
    asked = {"max_seq_len": config.max_seq_len, **{f"{n}.max_seq_len": d.max_seq_len for n, d in defs.items() if d.max_seq_len}}
    over = [f"{key} {value}" for key, value in asked.items() if value > limit]
    if over:
        raise MtdnnError(f"{', '.join(over)}: above the {limit} positions encoder '{config.encoder}' can take; "
                         f"use --max-seq-len {limit} or less")


def build_heads(defs: dict[str, TaskDef], hidden_size: int, host: PluginHost,
                resolved: dict[str, ResolvedTask] | None = None) -> dict[str, Head]:
    """Each task's head; with ``resolved``, from the head configs validated in the plan."""
    registries = host.registries
    return {
        name: registries.heads.build(task.head, resolved[name].head_config if resolved else task.head_config,
                                     hidden_size=hidden_size, task=task)
        for name, task in defs.items()
    }


def build_model(defs: dict[str, TaskDef], encoder: Any, host: PluginHost,
                resolved: dict[str, ResolvedTask] | None = None) -> MultiTaskModel:
    return MultiTaskModel(encoder, build_heads(defs, encoder.config.hidden_size, host, resolved))


@dataclass
class Datasets:
    train: list[TaskDataset]
    eval: list[TaskDataset]


def load_datasets(tasks: dict[str, Task], files: dict[str, dict[str, Path]], tokenizer: Any, config: TrainConfig,
                  host: PluginHost, cache_dir: Path, progress: bool = True,
                  resolved: dict[str, ResolvedTask] | None = None) -> Datasets:
    """Every split of every task as a :class:`TaskDataset`; caps and fractions select rows before
    they are tokenized. ``resolved``: the tasks as planned (resolved here when not given)."""
    train, evaluation = [], []
    for name, task in tasks.items():
        done = (resolved or {}).get(name) or resolve_task(task.definition, host.registries)
        definition, task_type, fmt, fmt_origin = task.definition, done.task_type, done.data_format, done.data_format_origin
        max_len = definition.max_seq_len or config.max_seq_len
        for split, path in files[name].items():
            is_train = split == TRAIN_SPLIT
            fraction = config.train_fraction.get(name) if is_train else None
            selection = Selection(fraction, config.max_train_samples if is_train else config.max_eval_samples)
            store = encode_file(path, definition, task_type, fmt, tokenizer, max_len, cache_dir,
                                selection=selection, format_origin=fmt_origin, progress=progress)
            dataset = TaskDataset(f"{name}_{split}", definition, split, store, task_type, Path(path))
            if is_train:
                if not dataset.has_labels:
                    raise DataError(f"{path}: the training file has no labels")
                unlabeled = dataset.unlabeled()
                if len(unlabeled):
                    raise DataError(f"{path}: {len(unlabeled)} training row(s) without a label, "
                                    f"e.g. uid {store.value('uid', int(unlabeled[0]))}")
                if fraction is not None:
                    dataset.name = f"{name}_{subset_suffix(fraction)}_{split}"
                train.append(dataset)
            else:
                evaluation.append(dataset)
    return Datasets(train, evaluation)


def subset_suffix(fraction: float) -> str:
    """0.001 -> '001', 0.01 -> '01', 0.1 -> '1' (the original naming); other shares in percent."""
    text = f"{fraction:.10f}".rstrip("0")
    return text[2:] if text.startswith("0.") and set(text[2:-1]) <= {"0"} else f"{fraction * 100:g}pct"


def plugin_versions(host: PluginHost) -> dict[str, str]:
    versions = {info.name: info.version for info in host.info.values() if not info.builtin}
    for package in ("torch", "transformers"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:  # pragma: no cover
            pass
    return versions

