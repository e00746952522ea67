"""The ``mtdnn`` command line. Plugins add subcommands through the ``register_commands`` hook."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from mtdnn_core.errors import ConfigError, MtdnnError, ObserverError

# the options and helpers commands that extend ``mtdnn train`` share (public in mtdnn_core.api);
# the underscored names are the earlier spellings, kept for code that still uses them
from mtdnn_core.train_options import (
    LIST_OPTIONS,
    NOT_OPTIONS,
    config_from_options as _train_config,
    generated_options as _generated_options,
    option_specs as train_options,
    parse_sets as _parse_sets,
    plugin_option,
    print_summary as _print_summary,
    split_data_dirs as _split_data_dirs,
    strict_option,
    train_options as _train_options,
)

BUILTIN_COMMANDS = ("train", "predict", "prepro", "validate", "plugins", "strip", "plot")


def _host(plugins: tuple[str, ...], strict: bool | None):
    from mtdnn_core.plugins import PluginHost

    return PluginHost(list(plugins), strict=strict)


class MtdnnGroup(click.Group):
    """Built-in commands, plus plugin commands: listed from the cached inventory (no plugin is
    imported for ``--help``), loaded only when one is run."""

    _plugin_commands: dict[str, click.Command] | None = None
    _inventory: dict | None = None

    def inventory(self) -> dict:
        if self._inventory is None:
            from mtdnn_core import inventory

            try:
                self._inventory = inventory.load()
            except MtdnnError as exc:  # strict mode and a broken plugin: a message, not a traceback
                raise click.ClickException(f"{exc} (strict plugin mode: MTDNN_STRICT_PLUGINS=1)") from None
        return self._inventory

    def _load_plugin_commands(self) -> dict[str, click.Command]:
        if self._plugin_commands is None:
            import warnings

            from mtdnn_core.plugins import PluginHost

            group = click.Group()
            host = PluginHost(load_all=True, builtins=False, survey=True)
            with warnings.catch_warnings():
                if not host.strict:
                    warnings.simplefilter("ignore")
                try:
                    host.add_commands(group)
                except MtdnnError as exc:
                    raise click.ClickException(f"{exc} (strict plugin mode: MTDNN_STRICT_PLUGINS=1)") from None
            self._plugin_commands = dict(group.commands)
        return self._plugin_commands

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *self.inventory()["commands"]})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is None:
            command = self._load_plugin_commands().get(name)
        return command

    def format_commands(self, ctx, formatter):
        """The command list of ``--help``: built-ins from themselves, plugins' from the inventory."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            command = click.Group.get_command(self, ctx, name)
            if command is None:
                rows.append((name, self.inventory()["commands"].get(name, "")))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx, args):
        ctx.meta["mtdnn.args"] = list(args)  # the command line as given, for the resume command
        return super().parse_args(ctx, args)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MtdnnError as exc:
            if not _told_by_another_rank(exc):
                click.secho(f"error: {exc}", fg="red", err=True)
            ctx.exit(2)


def _told_by_another_rank(exc: MtdnnError) -> bool:
    """Under torchrun, a configuration error (the settings, task definitions and data files, as
    one node sees them) is the same on every rank of a node: its first rank tells it; the
    others stop with the same exit status, silently, instead of repeating it."""
    import os

    return isinstance(exc, ConfigError) and int(os.environ.get("LOCAL_RANK", "0")) > 0


@click.group(cls=MtdnnGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100,
                                               "show_default": True})
@click.version_option(package_name="mtdnn-core")
@click.option("-v", "--verbose", count=True, show_default=False, help="More messages (debug).")
@click.option("-q", "--quiet", count=True, show_default=False, help="Fewer messages: -q warnings only, -qq errors only.")
def main(verbose, quiet):
    """mtdnn: multi-task fine-tuning of one shared encoder with a head per task.

    \b
    Examples:
      mtdnn train --plugin glue --data-dir glue:sample --tasks sst,mrpc,stsb
      mtdnn train --plugin glue --data-dir ~/glue_data --tasks rte,mrpc,stsb --encoder bert-base-uncased
      mtdnn predict --checkpoint runs/mtdnn:best --task rte --data rte_dev.tsv
      mtdnn plot runs/mtdnn runs/other --out plots/
      mtdnn plugins
    \b
    Shell completion (bash; zsh and fish alike):
      eval "$(_MTDNN_COMPLETE=bash_source mtdnn)"
    """
    from mtdnn_core.reporting.logs import configure

    configure(verbose - quiet)


class TrainCommand(click.Command):
    """``mtdnn train``: its options generated from :class:`TrainConfig` are built on first use
    (parsing, help, a plugin reading ``train.params``), so importing the CLI stays cheap (no
    pydantic, no config module) and ``mtdnn --help`` fast. They come after ``--task-def``."""

    @property
    def params(self) -> list[click.Parameter]:
        if not self._generated:
            self._generated = True
            at = next(i for i, p in enumerate(self._params) if p.name == "task_defs") + 1
            self._params[at:at] = _generated_options()
        return self._params

    @params.setter
    def params(self, value: list[click.Parameter]) -> None:
        self._params = list(value)
        self._generated = False


@main.command(cls=TrainCommand)
@plugin_option
@strict_option
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML training config; options override it.")
@click.option("--task-def", "task_defs", multiple=True, type=click.Path(dir_okay=False), help="Task-definition YAML (repeatable).")
@click.option("--data-dir", "data_dirs", multiple=True, metavar="[TASK=]DIR",
              help="Data directory (canonical files or a layout a plugin understands); TASK=DIR for one task (repeatable).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any config key, e.g. --set sampler_config={temperature: 3}.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def train(plugins, strict_plugins, config_file, task_defs, data_dirs, sets, no_progress, **options):
    """Train one shared encoder on one or more tasks.

    \b
    Examples:
      mtdnn train --plugin glue --data-dir glue:sample --tasks sst,mrpc,stsb --epochs 2
      mtdnn train --plugin glue --data-dir glue_data --tasks rte,mrpc,stsb --encoder bert-base-uncased
      mtdnn train --task-def my_tasks.yml --data-dir canonical/ --tasks mytask
      mtdnn train --resume runs/mtdnn
    """
    from mtdnn_core.training.trainer import Trainer

    from mtdnn_core.training import run_dir

    options.update(_split_data_dirs(data_dirs))
    config = run_dir.settle_output(_train_config(config_file, plugins, task_defs, sets, options), config_file)
    host = _host(tuple(config.plugins), strict_plugins)
    try:
        trainer = Trainer(config, host, progress=not no_progress)
    except KeyboardInterrupt:  # loading the encoder or the data: nothing trained, nothing to resume
        import shlex

        launcher, note = _launcher()
        args = click.get_current_context().meta.get("mtdnn.args", ["train", "..."])
        click.echo(f"interrupted before training started; start again{note} with: {shlex.join([*launcher, *args])}", err=True)
        sys.exit(130)
    try:
        summary = trainer.train()
    except KeyboardInterrupt:
        if trainer.dist.is_main:  # under torchrun, rank 0 speaks for the run
            click.echo(f"interrupted at update {trainer.step}; {_resume_advice(config.output_dir)}", err=True)
        sys.exit(130)
    except ObserverError as exc:
        saved = f"checkpoint saved: {exc.checkpoint}" if exc.checkpoint else "no new checkpoint written"
        raise MtdnnError(f"{exc}; the run stopped ({saved}). Fix or remove {exc.observer} "
                         f"(--report-to, --plugin), then {_resume_advice(config.output_dir)}") from None
    if trainer.dist.is_main:  # under torchrun, rank 0 speaks for the run
        _print_summary(summary)
    trainer.dist.close()


def _resume_advice(output_dir: str) -> str:
    """Where the run's newest checkpoint is and the command line that continues from it: the
    one given, with ``--resume OUTPUT_DIR`` (and without ``--overwrite``)."""
    import shlex

    from mtdnn_core.training.checkpoint import read_meta, resolve_checkpoint

    args = click.get_current_context().meta.get("mtdnn.args", ["train", "..."])
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--resume":
            skip = True
        elif not (arg.startswith("--resume=") or arg == "--overwrite"):
            kept.append(arg)
    launcher, note = _launcher()
    try:
        latest = resolve_checkpoint(output_dir)
        where = f"last checkpoint: {latest} (update {read_meta(latest).get('step')})"
    except (MtdnnError, OSError):
        from mtdnn_core.training.run_dir import holds_a_run

        # the run's first files (config.json, log.jsonl) are there: starting again replaces them
        again = args if "--overwrite" in args or not holds_a_run(Path(output_dir)) else [*args, "--overwrite"]
        return f"no checkpoint was written yet; start again{note} with: {shlex.join([*launcher, *again])}"
    return f"{where}; resume{note} with: {shlex.join([*launcher, *kept, '--resume', str(output_dir)])}"


def _launcher() -> tuple[list[str], str]:
    """How to start this command again: ``mtdnn``, or under torchrun the same number of ranks
    (a resume with another number is refused), with a note for runs over several nodes."""
    import os

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return ["mtdnn"], ""
    local = int(os.environ.get("LOCAL_WORLD_SIZE", world))
    if local == world:
        return ["torchrun", "--standalone", "--nproc_per_node", str(local), "-m", "mtdnn_core.cli"], ""
    return (["torchrun", "--nnodes", str(world // local), "--nproc_per_node", str(local), "-m", "mtdnn_core.cli"],
            " on every node, with the run's rendezvous options,")


@main.command()
@plugin_option
@strict_option
@click.option("--checkpoint", required=True, callback=lambda ctx, param, value: _existing_checkpoint(value),
              help="Checkpoint, run directory (its latest checkpoint) or RUN:best.")
@click.option("--best", is_flag=True, help="The run's best checkpoint (same as --checkpoint RUN:best).")
@click.option("--task", required=True, help="Task name (as trained).")
@click.option("--data", "data_file", required=True, type=click.Path(exists=True, dir_okay=False), help="Canonical file of that task.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="JSON output (default: beside the data, .pred.json).")
@click.option("--batch-size", type=int, default=64)
@click.option("--max-seq-len", type=int, default=None)
@click.option("--device", default="auto")
def predict(plugins, strict_plugins, checkpoint, best, task, data_file, output, batch_size, max_seq_len, device):
    """Predict a task on new data with a trained checkpoint (metrics too if the data has labels).

    \b
    Example:
      mtdnn predict --checkpoint runs/mtdnn --task rte --data rte_dev.tsv --output rte_dev.pred.json
      mtdnn predict --checkpoint runs/mtdnn:best --task rte --data rte_dev.tsv
    """
    from mtdnn_core.data.features import TaskDataset, encode_file
    from mtdnn_core.errors import UnknownNameError
    from mtdnn_core.io import atomic_write_json
    from mtdnn_core.training import checkpoint as ckpt
    from mtdnn_core.training.evaluate import compute_metrics, predict as run_predict, readable_predictions
    from mtdnn_core.training.inference import load_for_inference
    from mtdnn_core.training.resolved import resolve_task
    from mtdnn_core.training.trainer import pick_device

    if best and not str(checkpoint).endswith(":best"):
        checkpoint = f"{checkpoint}:best"
    meta = ckpt.read_meta(ckpt.resolve_checkpoint(checkpoint))
    host = _host(tuple(dict.fromkeys([*meta.get("plugins", []), *plugins])), strict_plugins)
    model, tokenizer, defs, meta = load_for_inference(checkpoint, host)
    if task not in defs:
        raise UnknownNameError("task in this checkpoint", task, defs)
    definition = defs[task]
    resolved = resolve_task(definition, host.registries)
    task_type = resolved.task_type
    max_len = max_seq_len or definition.max_seq_len or meta["config"]["max_seq_len"]
    store = encode_file(Path(data_file), definition, task_type, resolved.data_format, tokenizer, max_len,
                        format_origin=resolved.data_format_origin)
    dataset = TaskDataset(Path(data_file).stem, definition, "predict", store, task_type, Path(data_file))
    dev = pick_device(device)
    model.to(dev)
    result = run_predict(model, dataset, batch_size, dev, tokenizer.pad_token_id or 0)
    metrics = compute_metrics(dataset, result, resolved.metrics)
    output = _checked_prediction_output(output, data_file, checkpoint)
    atomic_write_json(output, {"task": task, "checkpoint": str(checkpoint), "metrics": metrics,
                               "uids": result["uids"], "predictions": readable_predictions(dataset, result),
                               "scores": result["scores"]})
    host.write_predictions(dataset, result, output.with_suffix(""))
    for name, value in metrics.items():
        if isinstance(value, float):
            click.echo(f"{name}: {value:.2f}")
    click.echo(f"{len(result['uids'])} predictions written to {output}")


def _checked_prediction_output(output: str | None, data_file: str, checkpoint: str) -> Path:
    """``--output`` (default: beside the data), refused when it would replace the data, a file of
    the checkpoint or of its run."""
    import warnings

    from mtdnn_core.output_paths import check_default_output, check_output
    from mtdnn_core.training import checkpoint as ckpt
    from mtdnn_core.training.run_dir import RUN_FILES

    run = Path(checkpoint[: -len(":best")] if checkpoint.endswith(":best") else checkpoint)
    with warnings.catch_warnings():  # said once already, when the checkpoint was read
        warnings.simplefilter("ignore")
        resolved = ckpt.resolve_checkpoint(checkpoint)
    inputs = [("--data", data_file), ("--checkpoint", resolved),
              *(("--checkpoint", run / name) for name in RUN_FILES)]
    chosen = Path(output) if output else check_default_output(Path(data_file).with_suffix(".pred.json"), "--output")
    return check_output(chosen, inputs, option="--output")


@main.command()
@plugin_option
@strict_option
@click.option("--task-def", "task_defs", multiple=True, type=click.Path(dir_okay=False))
@click.option("--tasks", required=True, help="Comma-separated task names.")
@click.option("--data-dir", required=True)
@click.option("--encoder", default="all-minilm-l6-v2", help="Whose tokenizer to use.")
@click.option("--max-seq-len", type=int, default=128)
@click.option("--cache-dir", required=True, type=click.Path(file_okay=False), help="Where the features go; pass it to train as --cache-dir.")
def prepro(plugins, strict_plugins, task_defs, tasks, data_dir, encoder, max_seq_len, cache_dir):
    """Tokenize tasks ahead of time into the feature cache that `mtdnn train --cache-dir` reads.

    \b
    Example:
      mtdnn prepro --plugin glue --data-dir glue_data --tasks rte,mrpc --cache-dir cache/
    """
    from mtdnn_core.config import build_train_config
    from mtdnn_core.output_paths import TRAIN_RUN_MARKERS, check_output
    from mtdnn_core.training.setup import build_encoder, find_task_files, load_datasets, resolve_tasks, task_data_dirs

    check_output(cache_dir, [("--data-dir", data_dir), *(("--task-def", t) for t in task_defs)], option="--cache-dir",
                 directory=True, foreign=TRAIN_RUN_MARKERS)
    config = build_train_config({"tasks": [t for t in tasks.split(",") if t], "encoder": encoder, "data_dir": data_dir,
                                 "max_seq_len": max_seq_len, "task_def": list(task_defs), "plugins": list(plugins),
                                 "cache_dir": cache_dir, "output_dir": cache_dir})
    host = _host(plugins, strict_plugins)
    chosen = resolve_tasks(config, host)
    files = find_task_files(chosen, task_data_dirs(config, host), Path(cache_dir) / "data", need_train=False)
    _, tokenizer = build_encoder(config, host)
    data = load_datasets(chosen, files, tokenizer, config, host, Path(cache_dir))
    for dataset in [*data.train, *data.eval]:
        click.echo(f"{dataset.name:<24} {len(dataset):>7} rows  {dataset.source}")
    click.echo(f"features cached in {cache_dir}")


@main.command(cls=TrainCommand)
@plugin_option
@strict_option
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Plan the run of this YAML training config (with the options given) as mtdnn train would.")
@click.option("--task-def", "task_defs", multiple=True, type=click.Path(dir_okay=False), help="Task-definition YAML (repeatable).")
@click.option("--data-dir", "data_dirs", multiple=True, metavar="[TASK=]DIR", help="As for mtdnn train.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="As for mtdnn train.")
@click.argument("files", nargs=-1, type=click.Path())
def validate(plugins, strict_plugins, config_file, task_defs, data_dirs, sets, files, **options):
    """Check task-definition or training-config YAML files; report every problem at once.

    With --config and/or mtdnn train's options, plan the run as mtdnn train does (tasks, data
    files, components, metric_for_best) without loading a model: what it refuses, train refuses.

    \b
    Examples:
      mtdnn validate --plugin glue my_tasks.yml run.yml
      mtdnn validate --config run.yml --data-dir glue_data --epochs 3
    """
    given = {k: v for k, v in options.items() if v is not None}
    if config_file or given or data_dirs or sets or not files:
        if not (config_file or given.get("tasks") or given.get("resume")):
            raise click.UsageError("give FILES to check, or --config RUN.yml / mtdnn train's options (--tasks...) "
                                   "to plan a run")
        _plan_command_line(plugins, strict_plugins, config_file, task_defs, data_dirs, sets, options)
        if not files:
            return
    _validate_files(plugins, strict_plugins, files)


def _plan_command_line(plugins, strict_plugins, config_file, task_defs, data_dirs, sets, options) -> None:
    """Plan the run that ``mtdnn train`` with these arguments would start; report its tasks."""
    from mtdnn_core.training.plan import plan_run

    options = {**options, **_split_data_dirs(data_dirs)}
    config = _train_config(config_file, plugins, task_defs, sets, options)
    plan = plan_run(config, _host(tuple(config.plugins), strict_plugins))
    scored = sorted(f"{task}_{split}" for task, splits in plan.files.items() for split in splits if split != "train")
    click.echo(f"ok: {config_file or 'the command line'}: tasks {', '.join(plan.tasks)}; "
               f"scores {', '.join(scored) or 'nothing'}")


def _validate_files(plugins, strict_plugins, files) -> None:
    import yaml

    from mtdnn_core.config import (check_task_defs, load_train_config, parse_task_defs_partially, task_def_lines,
                                   unavailable_tasks)

    host = _host(plugins, strict_plugins)
    problems: list[str] = []
    notes: list[str] = []  # tasks the loaded plugins cannot train; the rest of their file can
    for file in files:
        try:
            if not Path(file).is_file():
                raise ConfigError([f"{file}: no such file"], file)
            try:
                text = Path(file).read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise ConfigError([f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8"], file) from None
            is_train = False
            if text is not None:
                try:
                    data = yaml.safe_load(text)
                    is_train = isinstance(data, dict) and isinstance(data.get("tasks"), list)
                except yaml.YAMLError:
                    pass
            if is_train:
                problems.extend(_check_train_config(load_train_config(file), plugins, strict_plugins, file))
            else:
                defs, structural = parse_task_defs_partially(text, file, host.registries.task_def_fields)
                problems.extend(structural)
                lines = task_def_lines(file)
                missing = unavailable_tasks(defs, host.registries)
                notes.extend(f"{file}:{lines.get((name,), '?')}: task '{name}' cannot be trained with the loaded "
                             f"plugins: {why}" for name, why in missing.items())
                defs = {name: d for name, d in defs.items() if name not in missing}
                problems.extend(check_task_defs(defs, host.registries, source=file, lines=lines))
        except ConfigError as exc:
            problems.extend(exc.problems)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if problems:
        raise ConfigError(problems, ", ".join(files))
    click.echo(f"ok: {', '.join(files)}" + (f" ({len(notes)} task(s) not available, see above)" if notes else ""))


def _check_train_config(config, plugins, strict, source: str) -> list[str]:
    """What planning the config's run would refuse (its data files aside: a config file is
    often given its --data-dir on the command line)."""
    from mtdnn_core.training.plan import plan_run

    host = _host(tuple(dict.fromkeys([*config.plugins, *plugins])), strict)
    try:
        plan_run(config, host, data=False)
    except ConfigError as exc:
        return [f"{source}: {p}" for p in exc.problems]
    except MtdnnError as exc:
        return [f"{source}: {exc}"]
    return []


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--refresh", is_flag=True, help="Load every plugin again instead of reading the cached inventory.")
def plugins(as_json, refresh):
    """List installed plugins, their versions and what each registers.

    The list is cached (see MTDNN_CACHE_DIR) and rebuilt when plugins are installed, removed or edited.
    """
    from mtdnn_core import inventory

    try:
        infos = inventory.load(refresh=refresh)["plugins"]
    except MtdnnError as exc:
        raise click.ClickException(f"{exc} (strict plugin mode: MTDNN_STRICT_PLUGINS=1)") from None
    if as_json:
        click.echo(json.dumps(infos, indent=2))
        return
    for info in infos:
        origin = "built-in" if info["builtin"] else f"{info['distribution']} {info['version']}".strip()
        click.echo(f"{info['name']} ({origin})" + (f"  FAILED: {info['error']}" if info["error"] else ""))
        for kind, names in sorted(info["registered"].items()):
            click.echo(f"    {kind}: {', '.join(names)}")
        for refusal in info["refused"]:
            click.echo(f"    REFUSED {refusal}")


@main.command()
@plugin_option
@click.argument("checkpoint", callback=lambda ctx, param, value: _existing_checkpoint(value))
@click.argument("target", type=click.Path())
@click.option("--overwrite", is_flag=True, help="Replace TARGET if it exists and is not empty (never a run or the CHECKPOINT).")
def strip(plugins, checkpoint, target, overwrite):
    """Write a checkpoint's encoder alone (task heads removed) as a Hugging Face model directory,
    usable as --encoder TARGET.

    \b
    Example:
      mtdnn strip runs/mtdnn refined-encoder/
      mtdnn strip runs/mtdnn:best refined-encoder/
    """
    from mtdnn_core.output_paths import TRAIN_RUN_MARKERS, check_output
    from mtdnn_core.training.checkpoint import export_encoder, read_meta, resolve_checkpoint
    from mtdnn_core.training.inference import load_for_inference

    base = checkpoint[: -len(":best")] if checkpoint.endswith(":best") else checkpoint
    check_output(target, [("CHECKPOINT", base)], option="TARGET", overwrite=overwrite, directory=True, replaces=True,
                 foreign=(*TRAIN_RUN_MARKERS, "state.json"))
    meta = read_meta(resolve_checkpoint(checkpoint))
    host = _host(tuple(dict.fromkeys([*meta.get("plugins", []), *plugins])), None)
    model, tokenizer, _, _ = load_for_inference(checkpoint, host)
    click.echo(f"encoder written to {export_encoder(model, tokenizer, Path(target))}")


def _existing_checkpoint(value: str) -> str:
    """A path that exists, or ``RUN:best`` of a run directory that exists."""
    base = value[: -len(":best")] if value.endswith(":best") else value
    if not Path(base).exists():
        raise click.BadParameter(f"{base} does not exist")
    return value


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where the PNG files go  [default: RUN/plots for one run, plots/ for several]")
def plot(runs, out_dir):
    """Draw training loss per task, learning rate and every dev/test metric over updates, from runs'
    log.jsonl and metrics.json; several runs are overlaid. Needs matplotlib (mtdnn-core[plot]).

    \b
    Examples:
      mtdnn plot runs/mtdnn
      mtdnn plot runs/single-rte runs/multi --out comparison/
    """
    from mtdnn_core.plot import plot_runs

    from mtdnn_core.output_paths import check_output

    target = Path(out_dir) if out_dir else (Path(runs[0]) / "plots" if len(runs) == 1 else Path("plots"))
    check_output(target, [("RUN", run) for run in runs], option="--out", directory=True, allow_inside=True)
    for path in plot_runs(list(runs), target):
        click.echo(str(path))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
