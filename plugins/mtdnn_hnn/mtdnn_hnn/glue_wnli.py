"""WNLI test predictions where ``mtdnn glue submit`` looks for them.

A scored WNLI-annotated test set (task ``hnnwnli``) also gets ``scores/wnli_test.<tag>.json``:
GLUE row indices as uids and 0/1 predictions (the hybrid scorer's). A run that trains GLUE's own
``wnli`` writes that file itself; then it is left alone.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from mtdnn_core.api import atomic_write_json

GLUE_DATASET = "wnli_test"


def is_wnli_test(dataset, output: dict) -> bool:
    hypotheses = output.get("hypotheses") or []
    return (dataset.split == "test" and dataset.task.task_type == "candidate_choice" and bool(hypotheses)
            and all(h is not None for h in hypotheses))


def write_glue_wnli(dataset, output: dict, prefix: Path) -> Path | None:
    prefix = Path(prefix)
    tag = prefix.name.split(".", 1)[1] if "." in prefix.name else prefix.name
    target = prefix.parent / f"{GLUE_DATASET}.{tag}.json"
    if target.exists() and json.loads(target.read_text()).get("source") is None:
        warnings.warn(f"{target} exists (GLUE's own wnli); HNN's WNLI predictions stay in {prefix}.json", stacklevel=2)
        return None
    atomic_write_json(target, {"dataset": GLUE_DATASET, "task": "wnli", "source": dataset.name,
                               "uids": list(output["uids"]), "predictions": [int(p) for p in output["predictions"]]})
    return target
