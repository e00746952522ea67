"""The official SQuAD 2.0 script's ``--out-image-dir`` figures: precision-recall curves of exact
match, F1 and the oracle, and histograms of the no-answer scores of answerable and unanswerable
questions, under the official file names."""
from __future__ import annotations

import io
from pathlib import Path

from mtdnn_core.api import MtdnnError, atomic_write_bytes

TITLES = {
    "pr_exact": "Precision-Recall curve for Exact Match score",
    "pr_f1": "Precision-Recall curve for F1 score",
    "pr_oracle": "Oracle Precision-Recall curve (binary task of HasAns vs. NoAns)",
}


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise MtdnnError("--out-image-dir needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, path: Path) -> None:
    buffer = io.BytesIO()
    plt.savefig(buffer, format="png")
    plt.clf()
    atomic_write_bytes(path, buffer.getvalue())


def write_figures(folder: Path, curves: dict, null_odds: list[float], has_answer: list[bool]) -> list[Path]:
    """``pr_exact.png``, ``pr_f1.png``, ``pr_oracle.png``, ``na_prob_hist_hasAns.png`` and
    ``na_prob_hist_noAns.png`` (a histogram only for a group that has questions)."""
    plt = _pyplot()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (_, precisions, recalls) in curves.items():
        plt.step(recalls, precisions, color="b", alpha=0.2, where="post")
        plt.fill_between(recalls, precisions, step="post", alpha=0.2, color="b")
        plt.xlabel("Recall")
        plt.ylabel("Precision")
        plt.xlim([0.0, 1.05])
        plt.ylim([0.0, 1.05])
        plt.title(TITLES[name])
        written.append(folder / f"{name}.png")
        _save(plt, written[-1])
    for label, wanted in (("hasAns", True), ("noAns", False)):
        values = [odds for odds, has in zip(null_odds, has_answer) if has == wanted]
        if not values:
            continue
        plt.hist(values, weights=[1.0 / len(values)] * len(values), bins=20, range=(0.0, 1.0))
        plt.xlabel("Model probability of no-answer")
        plt.ylabel("Proportion of dataset")
        plt.title(f"Histogram of no-answer probability: {label}")
        written.append(folder / f"na_prob_hist_{label}.png")
        _save(plt, written[-1])
    return written
