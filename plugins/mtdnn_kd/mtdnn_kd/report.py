"""The teaching report: each teacher's scores and the ensemble's, and how much the teachers
agree, as ``report.json`` and a readable ``report.md``."""
from __future__ import annotations

from pathlib import Path

from mtdnn_core.api import atomic_write_json, atomic_write_text


def _scores(metrics: dict) -> str:
    shown = [f"{k} {v:.2f}" for k, v in metrics.items() if isinstance(v, float)]
    return ", ".join(shown) or "-"


def _agreement(stats: dict) -> str:
    if "unanimous" in stats:
        pairwise = "-" if stats["pairwise"] is None else f"{stats['pairwise']:.1f}%"
        return f"all agree on {stats['unanimous']:.1f}% of {stats['predictions']} predictions, pairwise {pairwise}"
    pairwise = "-" if stats["pairwise_pearson"] is None else f"{stats['pairwise_pearson']:.1f}"
    return f"pairwise Pearson {pairwise}, mean spread {stats['mean_spread']:.3f} over {stats['predictions']} predictions"


def render(report: dict) -> str:
    lines = ["# Soft labels", "",
             f"Temperature {report['temperature']:g}; {len(report['teachers'])} teacher run(s); tokenizer {report['tokenizer']}.", ""]
    for task, body in report["tasks"].items():
        splits = [s for s in body["ensemble"]["scores"] if s != "train"] or list(body["ensemble"]["scores"])
        lines += [f"## {task} ({body['task_type']}, {len(body['teachers'])} teacher(s))", "",
                  "| | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
        for n, teacher in enumerate(body["teachers"], 1):
            seed = f", seed {teacher['seed']}" if teacher.get("seed") is not None else ""
            lines.append(f"| teacher {n} ({teacher['run']}{seed}) | "
                         + " | ".join(_scores(teacher["scores"].get(s, {})) for s in splits) + " |")
        lines.append("| ensemble | " + " | ".join(_scores(body["ensemble"]["scores"].get(s, {})) for s in splits) + " |")
        lines.append("")
        for split, stats in body["agreement"].items():
            lines.append(f"- agreement on {split}: {_agreement(stats)}")
        lines.append("")
    return "\n".join(lines)


def write_report(out: Path, report: dict) -> None:
    atomic_write_json(Path(out) / "report.json", report)
    atomic_write_text(Path(out) / "report.md", render(report))
