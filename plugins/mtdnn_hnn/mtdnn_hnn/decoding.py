"""From candidate scores to predictions, once per scorer (hybrid, LM alone, similarity alone).

A choice row predicts the index of its best candidate; an entailment row (WNLI) predicts 1 when
the hypothesis's candidate is the best one, else 0. ``golds`` are the answer index or the
entailment label accordingly, so every scorer's accuracy compares like with like.
"""
from __future__ import annotations

import numpy as np

from mtdnn_core.api import Decoder
from mtdnn_hnn.scores import SCORERS, ChoiceScores


def decide(choice: int, hypothesis: int | None) -> int:
    return choice if hypothesis is None else int(choice == hypothesis)


class ChoiceDecoder(Decoder):
    def __init__(self):
        self.out: dict[str, list] = {"uids": [], "predictions": [], "lm_predictions": [], "sim_predictions": [],
                                     "golds": [], "scores": [], "candidates": [], "hypotheses": []}

    def add(self, rows: list[dict], batch: dict, outputs: ChoiceScores) -> None:
        ranked = {name: outputs.ranking(name).cpu() for name in SCORERS}
        lm = outputs.lm.float().cpu()
        for i, row in enumerate(rows):
            n = len(row["candidates"])
            hypothesis = row.get("hypothesis")
            choices = {name: int(ranked[name][i, :n].argmax()) for name in SCORERS}
            self.out["uids"].append(row["uid"])
            self.out["predictions"].append(decide(choices["hybrid"], hypothesis))
            self.out["lm_predictions"].append(decide(choices["lm"], hypothesis))
            self.out["sim_predictions"].append(decide(choices["sim"], hypothesis))
            self.out["golds"].append(row.get("label"))
            self.out["candidates"].append(list(row["candidates"]))
            self.out["hypotheses"].append(hypothesis)
            self.out["scores"].append({
                "hybrid": [round(v, 6) for v in ranked["hybrid"][i, :n].tolist()],
                "lm": [round(v, 6) for v in lm[i, :n].tolist()],
                "sim": [round(v, 6) for v in ranked["sim"][i, :n].tolist()],
                "choices": choices,
            })

    def result(self) -> dict[str, list]:
        return self.out


def metric_arrays(output: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(golds, hybrid predictions, [N, 3] predictions of hybrid, LM and similarity)``."""
    golds = np.asarray(output["golds"])
    per_scorer = np.stack([np.asarray(output["predictions"]), np.asarray(output["lm_predictions"]),
                           np.asarray(output["sim_predictions"])], axis=1)
    return golds, per_scorer[:, 0], per_scorer
