"""The ``candidate_choice`` task type: pick a pronoun's antecedent among candidates.

Each candidate is scored by the task's head (``hnn``: masked-LM, similarity and their
combination); the loss (``hnn``) trains all three; predictions and accuracies are reported for
each scorer. Metrics receive ``(golds, hybrid predictions, [N, 3] predictions of hybrid, LM,
similarity)``, so ``accuracy`` means the hybrid's.
"""
from __future__ import annotations

from mtdnn_core.api import TaskType
from mtdnn_hnn.batching import collate_schemas
from mtdnn_hnn.decoding import ChoiceDecoder, metric_arrays

METRICS = ("hybrid_accuracy", "lm_accuracy", "sim_accuracy", "majority_baseline", "accuracy", "ACC", "acc")


class CandidateChoice(TaskType):
    name = "candidate_choice"
    formats = ("Winograd",)
    default_head = "hnn"
    default_loss = "hnn"
    default_metrics = ("hybrid_accuracy", "lm_accuracy", "sim_accuracy", "majority_baseline")

    def default_n_class(self, task):
        return 1

    def check(self, task):
        unknown = [m for m in task.metric_meta if m not in METRICS]
        if unknown:
            return [f"metric_meta: {', '.join(unknown)} not defined for candidate choice; use {', '.join(METRICS[:4])}"]
        return []

    def lengths(self, store):
        """Padded tokens of a schema: both sequences of its longest candidate, times the count."""
        return store.nested_lengths("lm_input_ids") + store.nested_lengths("sim_input_ids")

    def collate(self, rows, pad_id):
        return collate_schemas(rows, pad_id)

    def compute_loss(self, head, loss_fn, outputs, batch):
        return loss_fn(outputs, batch["targets"], batch.get("weights"))

    def decoder(self, task, head):
        return ChoiceDecoder()

    def metric_inputs(self, task, output):
        return metric_arrays(output)

    def readable(self, task, output):
        """The chosen candidate's text for a choice; 0/1 for an entailment row (WNLI)."""
        return [pred if hyp is not None else cands[pred]
                for pred, hyp, cands in zip(output["predictions"], output["hypotheses"], output["candidates"])]
