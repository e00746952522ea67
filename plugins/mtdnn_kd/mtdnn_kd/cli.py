"""``mtdnn kd ...``: teach (soft labels from teacher runs), train (a student on them), recipe."""
from __future__ import annotations

from pathlib import Path

import click

from mtdnn_core.api import (
    PluginHost,
    config_from_options,
    parse_sets,
    plugin_option,
    print_summary,
    split_data_dirs,
    strict_option,
    train_options,
)


def _run_path(value: str) -> str:
    """The run of a ``--teacher [TASK=]RUN[:best]`` value."""
    name, sep, path = value.partition("=")
    run = path if sep and name and not Path(value).exists() and "/" not in name else value
    return run[: -len(":best")] if run.endswith(":best") else run


def _data_inputs(dirs: dict) -> list[tuple[str, str]]:
    return [("--data-dir", dirs.get("data_dir")), *(("--data-dir", d) for d in dirs.get("task_data_dirs", {}).values())]


def _check_out(out_dir: str, inputs: list) -> None:
    """``--out`` is never an input (a teacher run, the data), nor inside one, nor a training run."""
    from mtdnn_core.api import TRAIN_RUN_MARKERS, check_output

    check_output(out_dir, inputs, option="--out", directory=True, foreign=(*TRAIN_RUN_MARKERS, "state.json"))


@click.group()
def kd():
    """Knowledge distillation (MT-DNN-KD): teacher ensembles -> soft labels -> one multi-task student.

    \b
    Teach:   mtdnn kd teach --teacher runs/t1 --teacher runs/t2 --tasks rte,mrpc,stsb --data-dir glue_data --out soft/
    Train:   mtdnn kd train --soft-labels soft/ --plugin glue --data-dir glue_data --tasks rte,mrpc,stsb
    Same:    mtdnn train --plugin kd --plugin glue ... --set 'regularizers=[{name: kd, params: {soft_labels: soft/}}]'
    Recipe:  mtdnn kd recipe --plugin glue --data-dir glue_data --tasks rte,mrpc,stsb --teachers 3 --out runs/kd
    """


@kd.command()
@plugin_option
@click.option("--teacher", "teachers", multiple=True, required=True, metavar="[TASK=]RUN",
              help="A teacher run or checkpoint (repeatable); TASK=RUN for a teacher of one task.")
@click.option("--tasks", required=True, help="Comma-separated tasks to teach, e.g. rte,mrpc,stsb.")
@click.option("--data-dir", "data_dirs", multiple=True, required=True, metavar="[TASK=]DIR",
              help="Data directory as for `mtdnn train` (repeatable with TASK=DIR).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Soft-label directory to write.")
@click.option("--temperature", type=float, default=1.0, show_default=True, help="Softmax temperature of the soft labels.")
@click.option("--splits", default=None, help="Comma-separated splits (default: every split without 'test'; train always).")
@click.option("--max-train-samples", type=int, default=None, help="Teach only the first N training rows (as the student will read).")
@click.option("--max-eval-samples", type=int, default=None, help="Score only the first N rows of other splits.")
@click.option("--max-seq-len", type=int, default=None, help="Maximum tokens per input (default: the teachers'); the student must use the same.")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--num-threads", type=int, default=None, help="CPU threads for torch.")
@click.option("--overwrite", is_flag=True, help="Replace soft labels already in --out.")
def teach(plugins, teachers, tasks, data_dirs, out_dir, temperature, splits, max_train_samples, max_eval_samples,
          max_seq_len, batch_size, device, num_threads, overwrite):
    """Run every teacher over the tasks' training and dev data and average their outputs into
    soft labels (JSON lines per task and split, manifest.json, report.json and report.md).

    \b
    Example:
      mtdnn kd teach --teacher runs/seed1 --teacher runs/seed2 --teacher runs/seed3 \\
          --tasks rte,mrpc,stsb --data-dir glue_data --out soft/
      mtdnn kd teach --teacher rte=runs/rte-1 --teacher rte=runs/rte-2 --teacher stsb=runs/stsb-1 ...
    """
    from mtdnn_kd.teach import TeachSettings, teach as run_teach

    dirs = split_data_dirs(data_dirs)
    _check_out(out_dir, [*(("--teacher", _run_path(t)) for t in teachers), *_data_inputs(dirs)])
    settings = TeachSettings(temperature=temperature, splits=[s for s in splits.split(",") if s] if splits else None,
                             max_train_samples=max_train_samples, max_eval_samples=max_eval_samples,
                             max_seq_len=max_seq_len, batch_size=batch_size, device=device, num_threads=num_threads)
    run_teach(list(teachers), [t.strip() for t in tasks.split(",") if t.strip()], dirs.get("data_dir"),
              dirs.get("task_data_dirs", {}), Path(out_dir), settings, list(plugins), overwrite=overwrite, log=click.echo)
    click.echo((Path(out_dir) / "report.md").read_text(encoding="utf-8"))
    click.echo(f"soft labels in {out_dir}; train with: mtdnn kd train --soft-labels {out_dir} ...")


def distillation_config(config, params: dict):
    """``config`` with the kd regularizer (and the kd plugin) added; refused if it has one, except
    in a resumed run's own configuration (``--resume RUN`` alone), whose kd regularizer is replaced
    by this one (a change of its settings is then refused as any change that alters the run)."""
    from mtdnn_core.api import ConfigError, build_train_config

    is_kd = [r.name in ("kd", "distillation") for r in config.regularizers]
    if any(is_kd) and not config.resume:
        raise ConfigError(["regularizers: the config already has a kd regularizer; give --soft-labels or the "
                           "regularizer, not both"], "mtdnn kd train")
    data = config.model_dump()
    kept = [r for r, kd in zip(data["regularizers"], is_kd) if not kd]
    data["regularizers"] = [*kept, {"name": "kd", "params": params}]
    data["plugins"] = list(dict.fromkeys([*data["plugins"], "kd"]))
    return build_train_config(data, "mtdnn kd train")


@kd.command()
@plugin_option
@strict_option
@click.option("--soft-labels", required=True, type=click.Path(exists=True, file_okay=False), help="Written by `mtdnn kd teach`.")
@click.option("--alpha", type=float, default=0.5, show_default=True, help="Weight of the distillation loss (1 - alpha: hard labels).")
@click.option("--kd-loss", default=None, help="mse, kl or ce for every task (default: each task's kd_loss).")
@click.option("--allow-missing", is_flag=True, help="Samples without soft labels train on their labels alone (counted).")
@click.option("--no-input-check", is_flag=True, help="Do not require the teachers' token ids (another tokenizer).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML training config; options override it.")
@click.option("--task-def", "task_defs", multiple=True, type=click.Path(dir_okay=False), help="Task-definition YAML (repeatable).")
@train_options
@click.option("--data-dir", "data_dirs", multiple=True, metavar="[TASK=]DIR", help="As for `mtdnn train`.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any config key.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def train(plugins, strict_plugins, soft_labels, alpha, kd_loss, allow_missing, no_input_check, config_file, task_defs,
          data_dirs, sets, no_progress, **options):
    """`mtdnn train` with the kd regularizer: each task with soft labels trains on
    alpha * kd_loss + (1 - alpha) * hard loss; the others on their labels. Data, labels,
    tokenizer and every sample are checked against the soft labels before the first step.

    \b
    Example:
      mtdnn kd train --soft-labels soft/ --plugin glue --data-dir glue_data --tasks rte,mrpc,stsb --epochs 3
    """
    from mtdnn_core.api import Trainer, settle_output
    from mtdnn_kd.preflight import check_run
    from mtdnn_kd.soft_labels import SoftLabels

    options.update(split_data_dirs(data_dirs))
    params = {"soft_labels": soft_labels, "alpha": alpha, "allow_missing": allow_missing,
              "check_inputs": not no_input_check}
    if kd_loss:
        params["loss"] = kd_loss
    config = settle_output(config_from_options(config_file, plugins, task_defs, sets, options), config_file,
                                   [("--soft-labels", soft_labels)])
    config = distillation_config(config, params)
    host = PluginHost(list(config.plugins), strict=strict_plugins)
    trainer = Trainer(config, host, progress=not no_progress)
    coverage = check_run(trainer, SoftLabels(soft_labels), check_inputs=not no_input_check, allow_missing=allow_missing,
                         loss=kd_loss)
    for name, counts in coverage.items():
        state = f"{counts['soft']}/{counts['rows']} samples with soft labels" if counts["soft"] else "hard labels only"
        click.echo(f"  {name:<24} {state}")
    print_summary(trainer.train())


@kd.command()
@plugin_option
@click.option("--tasks", required=True, help="Comma-separated tasks, e.g. rte,mrpc,stsb.")
@click.option("--data-dir", "data_dirs", multiple=True, required=True, metavar="[TASK=]DIR",
              help="Data directory as for `mtdnn train` (repeatable with TASK=DIR).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for every run, the soft labels and the results (finished runs there are reused).")
@click.option("--teachers", "n_teachers", type=int, default=3, show_default=True, help="Teachers per task (seeds 1..N).")
@click.option("--teacher-seeds", default=None, help="Comma-separated teacher seeds (instead of 1..N).")
@click.option("--seed", type=int, default=1, show_default=True, help="The student's seed (and the baseline's).")
@click.option("--alpha", type=float, default=0.5, show_default=True)
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--kd-loss", default=None, help="mse, kl or ce for every task (default: each task's kd_loss).")
@click.option("--baseline/--no-baseline", default=True, show_default=True, help="Single-task baseline with the student's seed.")
@click.option("--hard-student/--no-hard-student", default=False, show_default=True,
              help="Also the same multi-task run on hard labels alone.")
@click.option("--stages", default=",".join(("teachers", "teach", "student", "hard", "baseline", "report")), show_default=True,
              help="Stages to run; finished runs in --out are reused.")
@click.option("--encoder", default="all-minilm-l6-v2", show_default=True)
@click.option("--epochs", type=int, default=3, show_default=True)
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option("--max-seq-len", type=int, default=128, show_default=True)
@click.option("--max-train-samples", type=int, default=None)
@click.option("--max-eval-samples", type=int, default=None)
@click.option("--device", default="auto", show_default=True)
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True)
@click.option("--num-threads", type=int, default=None)
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any training-config key, for every run.")
@click.option("--no-progress", is_flag=True)
def recipe(plugins, tasks, data_dirs, out_dir, n_teachers, teacher_seeds, seed, alpha, temperature, kd_loss, baseline,
           hard_student, stages, sets, no_progress, **options):
    """N single-task teachers per task (seeds) -> ensemble soft labels -> one distilled multi-task
    student, with a single-task baseline: results.md, results.json and plots/<task>.png.

    \b
    Example:
      mtdnn kd recipe --plugin glue --data-dir glue_data --tasks rte,mrpc,stsb --teachers 3 --out runs/kd
    """
    from mtdnn_kd.recipe import Recipe, RecipeSettings

    base = {k: v for k, v in options.items() if v is not None}
    base.update(split_data_dirs(data_dirs))
    _check_out(out_dir, _data_inputs(base))
    base.update(parse_sets(sets))
    seeds = [int(s) for s in teacher_seeds.split(",") if s] if teacher_seeds else list(range(1, n_teachers + 1))
    settings = RecipeSettings(tasks=[t.strip() for t in tasks.split(",") if t.strip()], base=base, teacher_seeds=seeds,
                              student_seed=seed, alpha=alpha, temperature=temperature, kd_loss=kd_loss,
                              baseline=baseline, hard_student=hard_student, plugins=list(plugins))
    results = Recipe(settings, Path(out_dir), progress=not no_progress, log=click.echo).run(
        tuple(s.strip() for s in stages.split(",") if s.strip()))
    if results is not None:
        click.echo((Path(out_dir) / "results.md").read_text(encoding="utf-8"))
        click.echo(f"plots in {Path(out_dir) / 'plots'}; soft labels and their report in {Path(out_dir) / 'soft'}")
