"""The recipe's results: dev metrics of each teacher, their mean, the ensemble, the student,
the hard-label multi-task run and the single-task baseline, as a table and one plot per task."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mtdnn_core.api import atomic_write_json, atomic_write_text


def last_scores(summary: dict, task: str, split: str) -> dict:
    """The metrics of ``task``'s ``split`` at the run's last evaluation."""
    for record in reversed(summary.get("history", [])):
        metrics = record["metrics"].get(f"{task}_{split}")
        if metrics:
            return metrics
    return {}


def dev_split(report: dict, task: str) -> str:
    splits = [s for s in report["tasks"][task]["ensemble"]["scores"] if s != "train"]
    return splits[0] if splits else "train"


def _mean(scores: list[dict]) -> dict:
    keys = [k for k, v in scores[0].items() if isinstance(v, float)] if scores else []
    return {k: float(np.mean([s[k] for s in scores])) for k in keys}


def student_label(folder: str, seed: int) -> str:
    """``student`` distilled with each task's kd_loss; ``student-kl`` with kl for every task."""
    loss = folder.partition("-")[2]
    return f"student (multi-task, distilled{f' with {loss}' if loss else ''}, seed {seed})"


def collect(recipe: Any) -> dict:
    """Everything the recipe measured, read back from its output folder."""
    out, s = recipe.out, recipe.s
    report = json.loads((out / "soft" / "report.json").read_text())
    splits = {task: dev_split(report, task) for task in s.tasks}
    systems = []
    for n, seed in enumerate(s.teacher_seeds):
        systems.append({"system": f"teacher {n + 1} (single-task, seed {seed})", "scores": {
            t: report["tasks"][t]["teachers"][n]["scores"].get(splits[t], {}) for t in s.tasks}})
    if len(s.teacher_seeds) > 1:
        systems.append({"system": "teachers' mean", "scores": {
            t: _mean([report["tasks"][t]["teachers"][n]["scores"].get(splits[t], {}) for n in range(len(s.teacher_seeds))])
            for t in s.tasks}})
    systems.append({"system": f"ensemble of {len(s.teacher_seeds)}", "scores": {
        t: report["tasks"][t]["ensemble"]["scores"].get(splits[t], {}) for t in s.tasks}})
    runs = {folder.name: student_label(folder.name, s.student_seed) for folder in sorted(out.glob("student*"))}
    runs["multitask"] = f"multi-task, hard labels only (seed {s.student_seed})"
    for folder, label in runs.items():
        summary = out / folder / "summary.json"
        if summary.is_file():
            body = json.loads(summary.read_text())
            systems.append({"system": label, "scores": {t: last_scores(body, t, splits[t]) for t in s.tasks}})
    if s.baseline:
        scores = {}
        for n, task in enumerate(s.tasks):
            if s.student_seed in s.teacher_seeds:
                scores[task] = report["tasks"][task]["teachers"][s.teacher_seeds.index(s.student_seed)]["scores"].get(splits[task], {})
            elif (out / "baseline" / task / "summary.json").is_file():
                scores[task] = last_scores(json.loads((out / "baseline" / task / "summary.json").read_text()), task, splits[task])
        same = " = teacher " + str(s.teacher_seeds.index(s.student_seed) + 1) if s.student_seed in s.teacher_seeds else ""
        systems.append({"system": f"single-task baseline (seed {s.student_seed}{same})", "scores": scores})
    metrics = {t: report["tasks"][t]["metric"] for t in s.tasks}
    return {"tasks": s.tasks, "splits": splits, "metric": metrics, "systems": systems,
            "settings": {**s.base, "teacher_seeds": s.teacher_seeds, "student_seed": s.student_seed, "alpha": s.alpha,
                         "temperature": s.temperature, "kd_loss": s.kd_loss},
            "timings_s": recipe.timings, "agreement": {t: report["tasks"][t]["agreement"] for t in s.tasks}}


def table(results: dict) -> str:
    columns = []
    for task in results["tasks"]:
        names = []
        for system in results["systems"]:
            names += [k for k, v in system["scores"].get(task, {}).items() if isinstance(v, float) and k not in names]
        columns += [(task, name) for name in names]
    lines = ["| system | " + " | ".join(f"{t} {m} ({results['splits'][t]})" for t, m in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for system in results["systems"]:
        cells = []
        for task, name in columns:
            value = system["scores"].get(task, {}).get(name)
            cells.append("-" if value is None else f"{value:.2f}")
        lines.append(f"| {system['system']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(results: dict, out: Path) -> None:
    atomic_write_text(Path(out) / "results.md", table(results))
    atomic_write_json(Path(out) / "results.json", results)
    plot(results, Path(out) / "plots")


def plot(results: dict, folder: Path) -> list[Path]:
    """One PNG per task: each system's main dev metric as a horizontal bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for task in results["tasks"]:
        metric = results["metric"][task]
        rows = [(s["system"], s["scores"].get(task, {}).get(metric)) for s in results["systems"]]
        rows = [(name, value) for name, value in rows if value is not None]
        fig, ax = plt.subplots(figsize=(8.0, 0.45 * len(rows) + 1.2), dpi=120)
        colors = ["#9ecae1" if name.startswith("teacher") else "#3182bd" if name.startswith("ensemble") else
                  "#e6550d" if name.startswith("student") else "#969696" for name, _ in rows]
        ax.barh([name for name, _ in rows][::-1], [v for _, v in rows][::-1], color=colors[::-1])
        values = [v for _, v in rows]
        if values:
            low, high = min(values), max(values)
            ax.set_xlim(max(0.0, low - (high - low) - 5), high + (high - low) * 0.3 + 2)
        for i, (_, value) in enumerate(rows[::-1]):
            ax.text(value, i, f" {value:.1f}", va="center", fontsize=8)
        ax.set(title=f"{task} {results['splits'][task]}", xlabel=metric)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        path = folder / f"{task}.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
