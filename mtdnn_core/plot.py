"""Curves of training runs as PNG files (``mtdnn plot RUN [RUN...]``; needs ``mtdnn-core[plot]``).

From each run directory's ``log.jsonl`` (training loss per task, learning rate) and
``metrics.json`` (every evaluation), one figure per quantity, several runs overlaid:

* ``train_loss.png``: the training loss of each task over updates (one panel per task);
* ``learning_rate.png``;
* ``<dataset>.png``: each metric of a dev/test set over updates (one panel per metric).

Each PNG says in its metadata that mtdnn drew it (``Software: mtdnn``); a file of one of these
names there that does not is never replaced (the command stops and names it).

:func:`line_chart` is the building block other reports use (the GLUE recipe's plots).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from mtdnn_core.errors import MtdnnError

Series = dict[str, list[tuple[float, float]]]  # label -> [(x, y), ...]
SOFTWARE = "mtdnn"  # the PNG text chunk that marks a chart as mtdnn's


@dataclass
class RunCurves:
    """The numbers of one run, keyed for plotting."""

    label: str
    train_loss: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # task -> (step, loss)
    learning_rate: list[tuple[int, float]] = field(default_factory=list)
    metrics: dict[str, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)  # dataset -> metric -> points


def _text(path: Path) -> str:
    """A run file's text; bytes that are not UTF-8 are an error naming the file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MtdnnError(f"{path}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         f"mtdnn writes its run files as UTF-8, so this one was changed or damaged") from None


def _records(path: Path) -> list[dict]:
    lines = _text(path).splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            if number < len(lines):  # only the last line may be cut (a run still writing, or killed)
                raise MtdnnError(f"{path}:{number}: not a JSON record") from None
    return records


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_run(run_dir: str | Path, label: str | None = None) -> RunCurves:
    """Read a run directory's ``log.jsonl`` and ``metrics.json`` (either may be missing, not both)."""
    run_dir = Path(run_dir)
    log, history = run_dir / "log.jsonl", run_dir / "metrics.json"
    if not run_dir.is_dir():
        raise MtdnnError(f"{run_dir}: no such run directory")
    if not log.is_file() and not history.is_file():
        raise MtdnnError(f"{run_dir}: neither log.jsonl nor metrics.json; is it the --output-dir of an mtdnn train run?")
    curves = RunCurves(label or run_dir.name)
    if not log.is_file():
        import logging

        logging.getLogger("mtdnn").warning(
            f"{run_dir}: no log.jsonl (the run's --report-to left out jsonl): no training loss or learning-rate "
            f"curves, only its evaluations; add jsonl to --report-to to have them")
    else:
        for record in _records(log):
            if record.get("event") != "train":
                continue
            step = record["step"]
            for task, value in (record.get("task_loss") or {record.get("task", "all"): record.get("loss")}).items():
                if _number(value):
                    curves.train_loss.setdefault(task, []).append((step, value))
            if _number(record.get("lr")):
                curves.learning_rate.append((step, record["lr"]))
    if history.is_file():
        try:
            evaluations = json.loads(_text(history))
        except ValueError:
            raise MtdnnError(f"{history}: not valid JSON") from None
        for record in evaluations:
            for dataset, metrics in record.get("metrics", {}).items():
                for name, value in metrics.items():
                    if _number(value):
                        curves.metrics.setdefault(dataset, {}).setdefault(name, []).append((record["step"], value))
    return curves


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MtdnnError("plots need matplotlib: pip install 'mtdnn-core[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_chart(panels: dict[str, Series], path: Path, xlabel: str = "update", title: str = "",
               integer_x: bool = False) -> Path:
    """One PNG with a panel per entry of ``panels`` (panel title -> series), series overlaid."""
    plt = _pyplot()
    import matplotlib.ticker

    columns = min(3, max(1, len(panels)))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.2 * rows), dpi=110, squeeze=False)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        for label, points in series.items():
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o" if len(points) < 30 else None, markersize=3, label=label)
        ax.set(title=name, xlabel=xlabel)
        if integer_x:
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # drawn beside it and renamed into place: a link at ``path`` is replaced, never written through
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png", metadata={"Software": SOFTWARE})
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def drawn_by_mtdnn(path: Path) -> bool:
    """Whether the PNG at ``path`` carries mtdnn's mark (another file, or no PNG: False)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return getattr(image, "text", {}).get("Software") == SOFTWARE
    except (UnidentifiedImageError, OSError):
        return False


def _labels(runs: list[Path]) -> list[str]:
    names = [Path(r).name for r in runs]
    return names if len(set(names)) == len(names) else [str(r) for r in runs]


def plot_runs(runs: list[str | Path], out: str | Path) -> list[Path]:
    """Draw the runs' curves into ``out``; return the files written."""
    if not runs:
        raise MtdnnError("plot: name at least one run directory")
    runs = [Path(r) for r in runs]
    curves = [read_run(r, label) for r, label in zip(runs, _labels(runs))]
    out = Path(out)
    charts = []  # (panels, file name, line_chart options)
    tasks = sorted({t for c in curves for t in c.train_loss})
    if tasks:
        panels = {task: {c.label: c.train_loss.get(task, []) for c in curves} for task in tasks}
        charts.append((panels, "train_loss.png", {"title": "training loss"}))
    if any(c.learning_rate for c in curves):
        charts.append(({"learning rate": {c.label: c.learning_rate for c in curves}}, "learning_rate.png", {}))
    for dataset in sorted({d for c in curves for d in c.metrics}):
        names = sorted({m for c in curves for m in c.metrics.get(dataset, {})})
        panels = {name: {c.label: c.metrics.get(dataset, {}).get(name, []) for c in curves} for name in names}
        charts.append((panels, f"{dataset}.png", {"title": dataset}))
    if not charts:
        raise MtdnnError(f"nothing to plot: {', '.join(map(str, runs))} hold(s) no training record in log.jsonl and no "
                         f"evaluation in metrics.json (empty files, or a run that stopped before its first logged update)")
    foreign = [name for _, name, _ in charts if (out / name).is_symlink()
               or ((out / name).exists() and not drawn_by_mtdnn(out / name))]  # a link points at someone's file
    if foreign:
        raise MtdnnError(f"plot: {out} already holds {', '.join(foreign)}, which mtdnn did not draw (or drew before "
                         f"0.1.1, without its mark) or which are links; nothing was written. Choose another --out, or move those files away")
    return [line_chart(panels, out / name, integer_x=True, **options) for panels, name, options in charts]
