"""The options of ``mtdnn train`` and the helpers that turn them into a :class:`TrainConfig`.

One place for them, so a plugin command that extends ``mtdnn train`` (``mtdnn kd train``,
``mtdnn glue recipe``) takes the same options, parses them the same way and prints the same
summary, and the CLI never restates the config's fields. Importing this module stays cheap
(click only); the config module is imported when options are first built or used.
"""
from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mtdnn_core.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from mtdnn_core.config import TrainConfig

F = TypeVar("F", bound=Callable[..., Any])

plugin_option = click.option(
    "--plugin", "plugins", multiple=True, metavar="NAME",
    help="Load the installed plugin NAME (repeatable; `mtdnn plugins` lists them).",
)
strict_option = click.option(
    "--strict-plugins", is_flag=True, default=None,
    help="Fail if any plugin fails to load (also MTDNN_STRICT_PLUGINS=1).",
)

# TrainConfig fields that are not plain command-line options (given otherwise or through --set)
NOT_OPTIONS = {"data_dir", "task_data_dirs", "plugins", "task_def"}
# list fields given as comma-separated values (--tasks rte,stsb --report-to jsonl,tensorboard)
LIST_OPTIONS = ("tasks", "report_to", "eval_splits")


def _option_type(annotation: Any) -> Any:
    """The click type of a simple TrainConfig field, or None for fields only --set reaches."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return click.Choice([str(a) for a in typing.get_args(annotation)])
    if args and typing.get_origin(annotation) is not list:
        if len(args) != 1:
            return None
        annotation = args[0]
        if typing.get_origin(annotation) is typing.Literal:
            return click.Choice([str(a) for a in typing.get_args(annotation)])
    return {int: int, float: float, str: str, bool: bool}.get(annotation)


def option_specs() -> list[tuple[str, str, Any, str]]:
    """``(flag, name, click type, help)`` for every simple :class:`TrainConfig` field, help and
    default taken from the field itself, so the command line never restates the config."""
    from mtdnn_core.config import TrainConfig

    options = []
    for name, info in TrainConfig.model_fields.items():
        if name in NOT_OPTIONS:
            continue
        kind = str if name in LIST_OPTIONS else _option_type(info.annotation)
        if kind is None:
            continue
        help_text = (info.description or name.replace("_", " ")).rstrip(".") + "."
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        if isinstance(default, list):
            default = ",".join(map(str, default)) or None
        if default is not None and default != {}:
            help_text += f"  [default: {str(default).lower() if isinstance(default, bool) else default}]"
        flag = "--" + name.replace("_", "-")
        if kind is bool:
            flag = f"{flag}/--no-{name.replace('_', '-')}"
        options.append((flag, name, kind, help_text))
    return options


def generated_options() -> list[click.Option]:
    """The :func:`option_specs` as click options (every default ``None``: "not given")."""
    return [click.Option([flag, name], type=None if kind is bool else kind, default=None, help=help_text)
            for flag, name, kind, help_text in option_specs()]


def train_options(fn: F) -> F:
    """Decorator: the options generated from :class:`TrainConfig`, for commands that extend
    ``mtdnn train``; they arrive as keyword arguments (``None`` when not given)."""
    for flag, name, kind, help_text in reversed(option_specs()):
        if kind is bool:
            fn = click.option(flag, name, default=None, help=help_text)(fn)
        else:
            fn = click.option(flag, name, type=kind, default=None, help=help_text)(fn)
    return fn


def parse_sets(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` values as a dict, each value read as YAML (``--set lr=3e-5``,
    ``--set sampler_config={temperature: 3}``); a malformed one is a :class:`ConfigError`."""
    import yaml

    from mtdnn_core.config import load_yaml

    out = {}
    for item in values:
        if "=" not in item:
            raise ConfigError([f"--set {item}: expected KEY=VALUE"], "--set")
        key, raw = item.split("=", 1)
        try:
            out[key.strip().replace("-", "_")] = load_yaml(raw, f"--set {key.strip()}")
        except yaml.YAMLError as exc:
            raise ConfigError([f"--set {item}: the value is not valid YAML ({getattr(exc, 'problem', exc)}); "
                               f"quote it, e.g. --set '{key}={{a: 1}}'"], "--set") from None
    return out


def split_data_dirs(values: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--data-dir DIR`` and ``--data-dir task=DIR`` as ``data_dir`` and ``task_data_dirs``
    config keys (a plain DIR may itself contain '=' only when it exists as a path)."""
    out: dict[str, Any] = {}
    per_task: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if sep and name and not Path(value).exists() and "/" not in name:
            per_task[name] = path
        elif "data_dir" in out:
            raise ConfigError([f"--data-dir given twice ({out['data_dir']}, {value}); use TASK=DIR for per-task directories"], "--data-dir")
        else:
            out["data_dir"] = value
    if per_task:
        out["task_data_dirs"] = per_task
    return out


def config_from_options(config_file: str | None, plugins: tuple[str, ...] | list[str],
                        task_defs: tuple[str, ...] | list[str], sets: tuple[str, ...] | list[str],
                        options: dict[str, Any]) -> TrainConfig:
    """The :class:`TrainConfig` of a ``mtdnn train``-like command: the YAML ``config_file`` (if
    any; with ``--resume RUN`` alone, the run's saved configuration), overridden by the
    generated ``options`` that were given and by ``--set`` values; ``--plugin`` and
    ``--task-def`` add to the file's lists."""
    from mtdnn_core.config import build_train_config, load_train_config

    overrides = {k: v for k, v in options.items() if v is not None}
    for key in LIST_OPTIONS:
        if isinstance(overrides.get(key), str):
            overrides[key] = [t.strip() for t in overrides[key].split(",") if t.strip()]
    overrides.update(parse_sets(sets))
    if overrides.get("resume") and not config_file:  # --resume RUN alone: the run's own configuration
        from mtdnn_core.training.run_dir import saved_config

        saved, source = saved_config(overrides["resume"])
        merged = {**saved, **overrides, "plugins": list(dict.fromkeys([*saved.get("plugins", []), *plugins])),
                  "task_def": list(dict.fromkeys([*saved.get("task_def", []), *task_defs]))}
        return build_train_config(merged, f"{source} with the command-line options")
    if config_file:
        config = load_train_config(config_file, overrides)
        extra = {"plugins": list(dict.fromkeys([*config.plugins, *plugins])),
                 "task_def": list(dict.fromkeys([*config.task_def, *task_defs]))}
        return config.model_copy(update=extra)
    if plugins:
        overrides["plugins"] = list(plugins)
    if task_defs:
        overrides["task_def"] = list(task_defs)
    return build_train_config(overrides, "command-line options")


def print_summary(summary: Any) -> None:
    """Print what :meth:`Trainer.train` returned: updates, last metrics, the best checkpoint and
    where the files are, as ``mtdnn train`` does."""
    click.echo(f"finished: {summary['step']} updates, {summary['epoch']} epoch(s); "
               f"{summary['nonfinite_skipped']} non-finite batch(es) skipped")
    last = {}
    for record in summary["history"]:
        last.update(record["metrics"])
    for dataset, metrics in sorted(last.items()):
        shown = ", ".join(f"{k} {v:.2f}" for k, v in metrics.items() if isinstance(v, float))
        click.echo(f"  {dataset:<24} {shown or '(no labels)'}")
    out = summary["output_dir"]
    if summary.get("metric_for_best") and summary["best_step"] is None:
        click.echo(f"best {summary['metric_for_best']}: no evaluation scored it, so there is no best checkpoint; "
                   f"use --checkpoint {out}")
    elif summary.get("metric_for_best"):
        stopped = " (stopped early)" if summary.get("stopped_early") else ""
        best = "-" if summary["best_value"] is None else f"{summary['best_value']:.4g}"
        click.echo(f"best {summary['metric_for_best']}: {best} at update {summary['best_step']}{stopped}; "
                   f"use --checkpoint {out}:best")
    files = [f"{out}/{name}" for name in ("metrics.json", "scores/", "log.jsonl", "tensorboard/")
             if (Path(out) / name).exists()]  # what this run's reporters and evaluations wrote
    click.echo(f"files: {', '.join([*files, f'checkpoints in {out}/'])}; plots: mtdnn plot {out}")
