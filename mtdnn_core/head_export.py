"""What a plugin hands ``mtdnn export`` so that its head runs without mtdnn (the
``export_head`` hook): the head's inference code as self-contained source, its weights and
options. The exporter joins it to the encoder as a transformers custom-code model."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PIPELINE_TAGS = ("text-classification", "token-classification", "question-answering")


@dataclass
class HeadExport:
    """``source``: Python text needing only torch (and transformers) that defines the class
    ``head_class``, built as ``head_class(config)`` (``config.hidden_size``, ``config.num_labels``,
    ``config.head_settings``) and called as ``head(hidden [B, L, H], batch)`` where ``batch``
    holds ``input_ids``, ``attention_mask``, ``token_type_ids``, ``segment_ids`` (0 first text,
    1 second, -1 special tokens, as mtdnn's features) and, for token classification, ``word_ids``.
    It returns logits in the shape of ``pipeline_tag``: ``[B, labels]``, ``[B, L, labels]`` (the
    arg-max at a word's first sub-token is its prediction) or ``[B, L, 2]`` (start, end).
    ``weights``: the head's state dict under ``head_class``'s names. ``settings``: JSON values.
    ``notes``: lines for the model card (what the scores mean). A head whose inputs are its own
    (not a text, a pair, words or a question) ships its pipeline too: ``pipeline_source`` defines
    ``pipeline_class``, registered for ``pipeline_tag``; the head then gets the pipeline's
    tensors in ``batch`` and may return a dict of tensors; ``compare(exported, model, task,
    tokenizer)`` then gives the largest difference between the exported model and the mtdnn
    model on a sample input, checked before the export is written."""

    head_class: str
    source: str
    weights: dict[str, Any]
    pipeline_tag: str
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    pipeline_source: str | None = None
    pipeline_class: str | None = None
    compare: Any = None

    def __post_init__(self) -> None:
        if (self.pipeline_source is None) != (self.pipeline_class is None):
            raise ValueError("HeadExport: give pipeline_source and pipeline_class together")
        if self.pipeline_source is not None and self.compare is None:
            raise ValueError("HeadExport: a head with its own pipeline needs compare (the check before writing)")
        if self.pipeline_source is None and self.pipeline_tag not in PIPELINE_TAGS:
            raise ValueError(f"HeadExport.pipeline_tag must be one of {', '.join(PIPELINE_TAGS)} (or come with its "
                             f"pipeline_source), not '{self.pipeline_tag}'")
