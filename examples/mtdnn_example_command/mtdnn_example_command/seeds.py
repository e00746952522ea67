"""``mtdnn seeds``: the same training once per seed, then the mean and spread of every metric of
the last evaluation, since one seed's number says little on small data sets."""
import statistics

import click

from mtdnn_core.api import (
    config_from_options,
    plugin_option,
    print_summary,
    settle_output,
    split_data_dirs,
    strict_option,
    train_options,
)


@click.command()
@click.option("--seeds", "seed_list", required=True, metavar="S1,S2,...", help="Seeds, one run each (e.g. 1,2,3).")
@plugin_option
@strict_option
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML training config; options override it.")
@click.option("--task-def", "task_defs", multiple=True, type=click.Path(dir_okay=False), help="Task-definition YAML (repeatable).")
@click.option("--data-dir", "data_dirs", multiple=True, metavar="[TASK=]DIR", help="As for `mtdnn train`.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Any config key, as for `mtdnn train`.")
@train_options
def seeds(seed_list, plugins, strict_plugins, config_file, task_defs, data_dirs, sets, **options):
    """`mtdnn train` once per seed, into OUTPUT_DIR/seed-N, then the mean and standard deviation of
    each metric of the last evaluation. Every option of `mtdnn train` applies to every run.

    \b
    Example:
      mtdnn seeds --seeds 1,2,3 --plugin glue --data-dir glue:sample --tasks rte --output-dir runs/rte-seeds
    """
    try:
        chosen = [int(s) for s in seed_list.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"'{seed_list}': expected comma-separated whole numbers, e.g. 1,2,3",
                                 param_hint="--seeds") from None
    if len(set(chosen)) < 2 or len(set(chosen)) != len(chosen):
        raise click.BadParameter(f"'{seed_list}': give at least two different seeds, each once", param_hint="--seeds")
    if options.get("seed") is not None or options.get("resume"):
        raise click.UsageError("--seed and --resume name one run; `mtdnn seeds` runs one per --seeds value "
                               "(resume a single run with `mtdnn train --resume OUTPUT_DIR/seed-N`)")
    options.update(split_data_dirs(data_dirs))
    base = config_from_options(config_file, plugins, task_defs, sets, options)
    configs = [settle_output(base.model_copy(update={"seed": seed, "output_dir": f"{base.output_dir}/seed-{seed}"}),
                             config_file) for seed in chosen]  # every output checked before the first run
    from mtdnn_core.api import PluginHost, Trainer

    last = {}  # (dataset, metric) -> one value per seed
    for config in configs:
        click.echo(f"seed {config.seed}: {config.output_dir}")
        summary = Trainer(config, PluginHost(list(config.plugins), strict=strict_plugins), progress=False).train()
        print_summary(summary)
        final = summary["history"][-1]["metrics"] if summary["history"] else {}
        for dataset, metrics in final.items():
            for name, value in metrics.items():
                if isinstance(value, float):
                    last.setdefault((dataset, name), []).append(value)
    click.echo(f"over seeds {','.join(map(str, chosen))}:")
    for (dataset, name), values in sorted(last.items()):
        click.echo(f"  {dataset} {name}: mean {statistics.mean(values):.2f}, sd {statistics.stdev(values):.2f} "
                   f"({', '.join(f'{v:.2f}' for v in values)})")
