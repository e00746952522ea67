"""Masked language modelling as a task type (``masked_lm``, the original's ``MaskLM``).

Rows are blocks of text (:mod:`mtdnn_core.data.corpus`); masking happens when a batch is
collated, with transformers' ``DataCollatorForLanguageModeling`` (its whole-word masking with
``whole_word: true``). The masks depend only on a seed: in training ``(run seed, epoch, batch
position)``, which the loader passes, so a resumed run masks exactly as an uninterrupted one;
in evaluation a hash of the batch's uids, so every evaluation of a held-out set sees the same
masks and its loss is comparable across the run. The head predicts the masked positions only
(``[masked tokens, vocabulary]``), so the ordinary ``ce`` loss applies and regularizers that
compare logits (SMART, ALUM's adversarial term) work on the masked positions.

Masking options sit in the task's ``head_config`` (``mask_prob``, ``whole_word``,
``mask_replace_prob``, ``random_replace_prob``); metrics: ``mlm_loss`` (mean negative
log-likelihood of the masked tokens), ``perplexity`` and ``mlm_accuracy``.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mtdnn_core.task_types import Decoder, TaskType

IGNORE_INDEX = -100


class MaskingConfig(BaseModel):
    """How tokens are masked (BERT's 15% / 80-10-10 by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mask_prob: float = Field(default=0.15, gt=0, lt=1, description="share of tokens (or words) to predict")
    whole_word: bool = Field(default=False, description="mask every sub-token of a chosen word (always with [MASK])")
    mask_replace_prob: float = Field(default=0.8, ge=0, le=1, description="of the chosen tokens, replaced by [MASK]")
    random_replace_prob: float = Field(default=0.1, ge=0, le=1, description="of the chosen tokens, replaced by a random token")


def masking_of(task: Any) -> MaskingConfig:
    """The task's masking options, from its ``head_config`` (other keys belong to the head)."""
    if task is None:
        return MaskingConfig()
    options = {k: v for k, v in (task.head_config or {}).items() if k in MaskingConfig.model_fields}
    return MaskingConfig(**options)


@dataclass(frozen=True)
class MaskVocabulary:
    """What masking needs of a tokenizer, carried by every feature (so collation, possibly in a
    DataLoader worker, needs no tokenizer): the [MASK] id and the vocabulary size."""

    mask_token_id: int
    size: int
    mask_token: str = "[MASK]"
    is_fast: bool = True

    def convert_tokens_to_ids(self, token: str) -> int:
        return self.mask_token_id

    def __len__(self) -> int:
        return self.size


@lru_cache(maxsize=16)
def _collator(vocabulary: MaskVocabulary, config: MaskingConfig):
    from transformers import DataCollatorForLanguageModeling

    replace, random = config.mask_replace_prob, config.random_replace_prob
    if config.whole_word:  # transformers' rule for whole words (set here, so it does not warn per batch)
        replace, random = 1.0, 0.0
    return DataCollatorForLanguageModeling(vocabulary, mlm=True, whole_word_mask=config.whole_word,
                                           mlm_probability=config.mask_prob, mask_replace_prob=replace,
                                           random_replace_prob=random)


def batch_generator(seed: tuple[int, ...] | list[int]):
    """A torch generator seeded from a tuple of integers (stable across processes and runs)."""
    import torch

    state = np.random.SeedSequence([int(s) % 2**32 for s in seed]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def uid_seed(uids: list[str]) -> tuple[int]:
    return (zlib.crc32("\n".join(map(str, uids)).encode("utf-8")),)


def mask_tokens(input_ids, special, offsets, vocabulary: MaskVocabulary, config: MaskingConfig, generator):
    """``(masked input ids, labels)`` for a padded batch: labels hold the original id where a
    token is to be predicted and -100 elsewhere. ``special`` marks special tokens and padding."""
    collator = _collator(vocabulary, config)
    collator.generator = generator
    masked, labels = collator.torch_mask_tokens(input_ids.clone(), special_tokens_mask=special.long(),
                                                offset_mapping=offsets if config.whole_word else None)
    if not bool((labels != IGNORE_INDEX).any()):  # an empty batch of targets has no loss: predict one token
        row, col = (~special).nonzero()[0].tolist()
        labels[row, col] = input_ids[row, col]
        masked[row, col] = vocabulary.mask_token_id
    return masked, labels


class MaskedTokenDecoder(Decoder):
    """Per row: the gold ids of its masked tokens, the predicted ids and each gold token's
    negative log-likelihood (the ``scores``)."""

    def __init__(self):
        self.uids, self.predictions, self.scores, self.golds = [], [], [], []

    def add(self, rows, batch, outputs):
        import torch

        log_probs = torch.log_softmax(outputs.float(), dim=-1)
        gold = batch["labels"].to(log_probs.device)
        nll = -log_probs.gather(1, gold.unsqueeze(1)).squeeze(1)
        counts = (batch["mlm_labels"] != IGNORE_INDEX).sum(1).tolist()
        for uid, part_gold, part_pred, part_nll in zip(batch["uids"], gold.split(counts), log_probs.argmax(-1).split(counts),
                                                      nll.split(counts)):
            self.uids.append(uid)
            self.golds.append(part_gold.tolist())
            self.predictions.append(part_pred.tolist())
            self.scores.append([round(v, 6) for v in part_nll.tolist()])

    def result(self):
        return {"uids": self.uids, "predictions": self.predictions, "scores": self.scores, "golds": self.golds}


class MaskedLM(TaskType):
    name = "masked_lm"
    formats = ("MLM",)
    default_head = "mlm"
    default_loss = "ce"
    default_metrics = ("mlm_loss", "perplexity", "mlm_accuracy")
    #: collate draws random numbers: training passes ``seed=(run seed, epoch, batch position)``
    seeded_collate = True
    compares_outputs = True

    def comparison_rows(self, outputs, batch):
        """Vocabulary logits of the masked positions (the head's outputs hold only those)."""
        return outputs

    def default_n_class(self, task):
        return None  # the vocabulary: the head takes it from the encoder

    def check(self, task):
        try:
            masking_of(task)
        except ValidationError as exc:
            return [f"head_config.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return []

    def parse_label(self, raw, task, where):
        return 1  # self-supervised: every block is labelled by its own text

    def collate(self, rows, pad_id, seed=None, task=None):
        from mtdnn_core.data.batching import pad_text

        batch = {"uids": [r["uid"] for r in rows], **pad_text(rows, pad_id)}
        special = batch["segment_ids"] < 0  # special tokens and padding are never masked
        width = special.shape[1]
        offsets = np.zeros((len(rows), width, 2), dtype=np.int64)
        for i, row in enumerate(rows):
            spans = np.asarray(row["offsets"], dtype=np.int64).reshape(-1, 2)
            offsets[i, : len(spans)] = spans
        vocabulary = MaskVocabulary(int(rows[0]["mask_id"]), int(rows[0]["vocab_size"]))
        generator = batch_generator(seed if seed is not None else uid_seed(batch["uids"]))
        masked, labels = mask_tokens(batch["input_ids"], special, offsets, vocabulary, masking_of(task), generator)
        batch["input_ids"] = masked
        batch["mlm_labels"] = labels
        batch["labels"] = labels[labels != IGNORE_INDEX]
        return batch

    def decoder(self, task, head):
        return MaskedTokenDecoder()

    def metric_inputs(self, task, output):
        golds = np.concatenate([np.asarray(g, dtype=np.int64) for g in output["golds"]] or [np.zeros(0, np.int64)])
        preds = np.concatenate([np.asarray(p, dtype=np.int64) for p in output["predictions"]] or [np.zeros(0, np.int64)])
        scores = np.concatenate([np.asarray(s, dtype=np.float64) for s in output["scores"]] or [np.zeros(0)])
        return golds, preds, scores
