"""The MT-DNN recipe as one command, and the domain-adaptation sweep.

Recipe: (1) multi-task refinement of the encoder on all chosen tasks; (2) the refined encoder
is stripped of its task heads; (3) each task is fine-tuned from it. Optionally the single-task
baseline (fine-tuning the original encoder) runs in the same command. Results: a table per
task and stage (``results.md``, ``results.json``) and one PNG per task with its dev metric
per epoch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mtdnn_core.api import atomic_write_json, atomic_write_text


def _train(settings: dict[str, Any], plugins: list[str], progress: bool) -> dict:
    from mtdnn_core.api import PluginHost, Trainer, build_train_config

    config = build_train_config({"eval_splits": ["dev"], **settings, "plugins": plugins})  # dev sets only
    trainer = Trainer(config, PluginHost(plugins), progress=progress)
    summary = trainer.train()
    summary["trainer"] = trainer
    return summary


def main_metric(task_def, host=None) -> str:
    from mtdnn_core.api import PluginHost

    registry = (host or PluginHost()).registries.metrics
    return registry.get(task_def.metric_meta[0]).factory.name


def dev_curve(summary: dict, task: str) -> list[tuple[int, dict]]:
    """(epoch, metrics) of the task's first dev set at each epoch-end evaluation."""
    curve = []
    for record in summary["history"]:
        if not record["tag"].startswith("epoch"):
            continue
        for dataset, metrics in record["metrics"].items():
            if dataset.split("_", 1)[0] == task and metrics:
                curve.append((record["epoch"], metrics))
                break
    return curve


def run_recipe(tasks: list[str], base: dict[str, Any], out: Path, refine_epochs: int, finetune_epochs: int,
               baseline: bool, plugins: list[str], progress: bool = True, log=print) -> dict:
    out = Path(out)
    from mtdnn_core.api import export_encoder

    results: dict[str, Any] = {"tasks": tasks, "settings": {**base, "refine_epochs": refine_epochs,
                                                           "finetune_epochs": finetune_epochs}, "stages": {}}
    log(f"stage 1: multi-task refinement on {', '.join(tasks)}")
    refine = _train({**base, "tasks": tasks, "epochs": refine_epochs, "output_dir": str(out / "refine")}, plugins, progress)
    trainer = refine.pop("trainer")
    refined = export_encoder(trainer.model, trainer.tokenizer, out / "refined-encoder")
    defs = trainer.defs
    results["stages"]["multitask"] = {t: dev_curve(refine, t) for t in tasks}
    del trainer
    results["stages"]["recipe"], results["stages"]["baseline"] = {}, {}
    for task in tasks:
        log(f"stage 2: fine-tuning {task} from the refined encoder")
        run = _train({**base, "tasks": [task], "epochs": finetune_epochs, "encoder": str(refined),
                      "output_dir": str(out / f"finetune-{task}")}, plugins, progress)
        run.pop("trainer")
        results["stages"]["recipe"][task] = dev_curve(run, task)
        if baseline:
            log(f"baseline: fine-tuning {task} from {base.get('encoder')}")
            run = _train({**base, "tasks": [task], "epochs": finetune_epochs, "output_dir": str(out / f"baseline-{task}")},
                         plugins, progress)
            run.pop("trainer")
            results["stages"]["baseline"][task] = dev_curve(run, task)
    results["metric"] = {t: main_metric(defs[t]) for t in tasks}
    write_reports(results, out)
    return results


def final(curve: list) -> dict:
    return curve[-1][1] if curve else {}


def write_reports(results: dict, out: Path) -> None:
    stages = [s for s in ("baseline", "multitask", "recipe") if results["stages"].get(s)]
    names = {"baseline": "single-task", "multitask": "multi-task (stage 1)", "recipe": "MT-DNN recipe"}
    lines = ["| task | metric | " + " | ".join(names[s] for s in stages) + " |", "|---|---|" + "---|" * len(stages)]
    table = {}
    for task in results["tasks"]:
        metric = results["metric"][task]
        row = {s: final(results["stages"][s].get(task, [])).get(metric) for s in stages}
        table[task] = {"metric": metric, **row}
        lines.append(f"| {task} | {metric} | " + " | ".join("-" if v is None else f"{v:.2f}" for v in row.values()) + " |")
    atomic_write_text(out / "results.md", "\n".join(lines) + "\n")
    atomic_write_json(out / "results.json", {**results, "table": table})
    plot_curves(results, out / "plots")


def plot_curves(results: dict, folder: Path) -> list[Path]:
    """One PNG per task: its dev metric per epoch for each stage (drawn by ``mtdnn plot``'s charts)."""
    from mtdnn_core.api import line_chart

    written = []
    for task in results["tasks"]:
        metric = results["metric"][task]
        series = {label: [(e + 1, m.get(metric)) for e, m in results["stages"].get(stage, {}).get(task, [])]
                  for stage, label in (("baseline", "single-task"), ("multitask", "multi-task"), ("recipe", "MT-DNN recipe"))}
        series = {label: points for label, points in series.items() if points}
        written.append(line_chart({f"{task} dev {metric}": series}, folder / f"{task}.png", xlabel="epoch", integer_x=True))
    return written


def run_adaptation(task: str, base: dict[str, Any], out: Path, fractions: list[float], epochs: int, plugins: list[str],
                   progress: bool = True, log=print) -> dict:
    """Fine-tune ``task`` on nested deterministic shares of its training set; one table row each."""
    from mtdnn_core.api import subset_suffix

    rows = []
    for fraction in fractions:
        name = task if fraction >= 1 else f"{task}_{subset_suffix(fraction)}"
        log(f"{name}: {fraction:.1%} of the training data")
        run = _train({**base, "tasks": [task], "train_fraction": {task: fraction} if fraction < 1 else {},
                      "epochs": epochs, "output_dir": str(Path(out) / name)}, plugins, progress)
        trainer = run.pop("trainer")
        rows.append({"dataset": name, "fraction": fraction, "train_rows": len(trainer.data.train[0]),
                     "dev": final(dev_curve(run, task))})
    lines = ["| dataset | share | train rows | dev |", "|---|---|---|---|"]
    for r in rows:
        shown = ", ".join(f"{k} {v:.2f}" for k, v in r["dev"].items() if isinstance(v, float))
        lines.append(f"| {r['dataset']} | {r['fraction']:.1%} | {r['train_rows']} | {shown} |")
    atomic_write_text(Path(out) / "adaptation.md", "\n".join(lines) + "\n")
    atomic_write_json(Path(out) / "adaptation.json", {"task": task, "settings": base, "rows": rows})
    return {"rows": rows}

