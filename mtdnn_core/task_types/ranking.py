"""Ranking: a sample is a premise with several candidates; the label is the correct one's index.

Candidates are scored one by one with a one-output head and a softmax over each sample's
candidates picks the answer (QNLI as ranking, COPA-style choices).
"""
from __future__ import annotations

from mtdnn_core.task_types import TaskType
from mtdnn_core.task_types.classification import SoftmaxDecoder


class Ranking(TaskType):
    name = "ranking"
    formats = ("PremiseAndMultiHypothesis",)
    default_head = "ranking"
    default_loss = "rank_ce"
    default_metrics = ("accuracy",)
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """Candidate scores, a row per sample; missing candidates are -inf (probability 0), which
        the divergences skip."""
        return outputs

    def default_n_class(self, task):
        return 1

    def lengths(self, store):
        """Padded tokens of a sample: its longest candidate times the number of candidates."""
        return store.nested_lengths("input_ids")

    def collate(self, rows, pad_id):
        """Candidates flattened to ``[batch * candidates, len]``; ``candidate_mask`` marks real
        candidates (samples may have different counts)."""
        import torch

        from mtdnn_core.data.batching import pad_text

        n_cand = max(len(r["input_ids"]) for r in rows)
        mask = torch.zeros(len(rows), n_cand, dtype=torch.bool)
        flat = []
        for i, r in enumerate(rows):
            mask[i, : len(r["input_ids"])] = True
            for c in range(n_cand):
                if c < len(r["input_ids"]):
                    flat.append({k: r[k][c] for k in ("input_ids", "token_type_ids", "segment_ids")})
                else:
                    flat.append({"input_ids": [pad_id], "token_type_ids": [0], "segment_ids": [-1]})
        batch = {"uids": [r["uid"] for r in rows], **pad_text(flat, pad_id), "candidate_mask": mask}
        labels = [r.get("label") for r in rows]
        if all(label is not None for label in labels):
            batch["labels"] = self.label_tensor(labels)
        return batch

    def decoder(self, task, head):
        return SoftmaxDecoder()  # missing candidates score -inf, so their probability is 0
