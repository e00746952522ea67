"""The HNN head for ``mtdnn export``: its inference code and pipeline (torch and transformers
only, in :mod:`mtdnn_hnn.export_code`), weights, options, and the check before writing."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

CODE = Path(__file__).resolve().parent / "export_code"
PIPELINE_TAG = "pronoun-resolution"
MODEL_KEYS = ("input_ids", "attention_mask", "token_type_ids", "candidate_mask", "mask_rows", "mask_positions",
              "mask_targets", "mask_slots", "sim_rows", "pronoun_mask", "span_mask")
SAMPLE = {"sentence": "The trophy does not fit into the brown suitcase because it is too large.", "pronoun": "it",
          "candidates": ["the trophy", "the suitcase"]}


def compare(exported: Any, model: Any, task: str, tokenizer: Any) -> float:
    """Largest difference of the hybrid, LM and similarity scores on a sample schema."""
    from mtdnn_hnn.batching import collate_schemas
    from mtdnn_hnn.encoding import encode_schema
    from mtdnn_hnn.schema import make_schema

    sentence = SAMPLE["sentence"]
    schema = make_schema(uid="sample", sentence=sentence, pronoun_start=sentence.index(" it ") + 1, pronoun="it",
                         candidates=SAMPLE["candidates"], label=None, where="export sample")
    batch = collate_schemas([encode_schema(schema, tokenizer, exported.config.max_seq_len)],
                            tokenizer.pad_token_id)
    ours = model(task, batch)
    theirs = exported(**{k: batch[k] for k in MODEL_KEYS})
    pairs = ((theirs["logits"], ours.hybrid), (theirs["lm"], ours.lm), (theirs["sim_prob"], ours.sim_prob))
    return max(float((a.float() - b.float()).abs().max()) for a, b in pairs)


def hnn_export(head: Any) -> Any:
    from mtdnn_core.api import HeadExport

    settings = {"similarity": head.config.similarity, "pooling": head.config.pooling, "lm_share": head.config.lm_share,
                "combine": head.config.combine, "mlm_class": type(head.mlm).__name__}
    weights = {k: v.detach().clone() for k, v in head.state_dict().items()}
    note = ("Call it as `pipeline(\"pronoun-resolution\", model=OUT_DIR, trust_remote_code=True)` on "
            "`{\"sentence\": ..., \"pronoun\": ..., \"candidates\": [...]}` (`pronoun_start`: the pronoun's character "
            "offset, default its first whole-word occurrence): it answers `answer` (the hybrid scorer's candidate), "
            "`index`, `lm_index`, `sim_index` and `scores` (`hybrid`, `lm`, `sim` per candidate), as mtdnn predicts them.")
    return HeadExport("MtdnnHnnHead", (CODE / "hnn_head.py").read_text(encoding="utf-8"), weights, PIPELINE_TAG, settings,
                      (note,), pipeline_source=(CODE / "hnn_pipeline.py").read_text(encoding="utf-8"),
                      pipeline_class="MtdnnPronounPipeline", compare=compare)
