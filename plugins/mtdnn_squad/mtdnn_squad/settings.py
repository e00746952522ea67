"""Windowing and decoding settings of a span task, read from its ``head_config``.

They sit in ``head_config`` because that is the task definition's place for options: the span
head validates them (with its dropout), and the data format and decoder read the same keys, so a
custom head for span tasks must accept them too. Defaults are those of the SQuAD examples of
Hugging Face and of BERT.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mtdnn_core.api import ConfigError


class SpanSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_stride: int = Field(default=128, ge=0, description=(
        "tokens that consecutive windows of a long context share (the Hugging Face meaning of stride)"))
    max_query_length: int = Field(default=64, ge=1, description="questions are cut to this many tokens")
    n_best: int = Field(default=20, ge=1, description="answer candidates kept per question")
    max_answer_length: int = Field(default=30, ge=1, description="longest answer, in tokens")
    null_threshold: float = Field(default=0.0, allow_inf_nan=False, description=(
        "SQuAD 2.0: answer 'no answer' when the null score exceeds the best span's score by more than this"))


def span_settings(task: Any) -> SpanSettings:
    """The settings in ``task.head_config`` (other keys there belong to the head)."""
    config = getattr(task, "head_config", None) or {}
    try:
        return SpanSettings(**{k: v for k, v in config.items() if k in SpanSettings.model_fields})
    except ValidationError as exc:
        raise ConfigError([f"{task.name}.head_config.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()],
                          source=f"task '{task.name}'") from None
