"""Where ``mtdnn extract`` gets its encoder: a trained mtdnn checkpoint (its fine-tuned encoder)
or any name ``mtdnn train --encoder`` accepts, built through the plugins' encoder registry."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def from_checkpoint(run: str | Path, plugins: tuple[str, ...] = ()) -> tuple[Any, Any, int | None]:
    """``(encoder, tokenizer, max_seq_len the run trained with)``."""
    from mtdnn_core.api import PluginHost, load_for_inference, read_meta, resolve_checkpoint

    meta = read_meta(resolve_checkpoint(run))
    host = PluginHost(list(dict.fromkeys([*meta.get("plugins", []), *plugins])))
    model, tokenizer, _, meta = load_for_inference(run, host)
    return model.encoder, tokenizer, meta.get("config", {}).get("max_seq_len")


def by_name(spec: str, plugins: tuple[str, ...] = ()) -> tuple[Any, Any]:
    """A registered encoder (``all-minilm-l6-v2``, ``tiny-random-bert``, a plugin's), else any
    Hugging Face name or directory through the ``hf`` loader."""
    from mtdnn_core.api import MtdnnError, PluginHost, did_you_mean

    registry = PluginHost(list(plugins)).registries.encoders
    name = spec if spec in registry else "hf"
    try:
        return registry.build(name, None, spec=spec)
    except MtdnnError as exc:
        if name != "hf":
            raise
        registered = [n for n in registry.names() if n != "hf"]
        raise MtdnnError(f"{exc}{did_you_mean(spec, registered)} Registered encoders: {', '.join(registered)}.") from None


def num_layers(encoder: Any) -> int:
    config = encoder.config
    for key in ("num_hidden_layers", "n_layers", "num_layers"):
        if isinstance(getattr(config, key, None), int):
            return getattr(config, key)
    raise ValueError(f"cannot tell how many layers {type(encoder).__name__} has")


def max_positions(encoder: Any, tokenizer: Any) -> int:
    limits = [v for v in (getattr(encoder.config, "max_position_embeddings", None), tokenizer.model_max_length)
              if isinstance(v, int) and 0 < v < 100_000]
    return min([512, *limits])


def position_limit(encoder: Any, tokenizer: Any) -> int | None:
    """The longest input the encoder can take: its position embeddings and the tokenizer's
    ``model_max_length`` (the smaller; a tokenizer's placeholder of 10^30 says nothing)."""
    limits = [v for v in (getattr(encoder.config, "max_position_embeddings", None), tokenizer.model_max_length)
              if isinstance(v, int) and 0 < v < 1_000_000]
    return min(limits) if limits else None


def check_max_len(max_len: int, encoder: Any, tokenizer: Any, pairs: bool) -> None:
    """Refuse a ``--max-seq-len`` without room for the special tokens and one token per text (the
    tokenizer would silently not truncate), or beyond the encoder's positions."""
    from mtdnn_convert.errors import ConversionError

    special = tokenizer.num_special_tokens_to_add(pair=pairs)
    least = special + (2 if pairs else 1)
    if max_len < least:
        kind = "a pair of texts" if pairs else "a text"
        raise ConversionError(f"--max-seq-len {max_len}: too short for {kind}; this tokenizer adds {special} special "
                              f"token(s), so use at least {least}")
    limit = position_limit(encoder, tokenizer)
    if limit is not None and max_len > limit:
        raise ConversionError(f"--max-seq-len {max_len}: this encoder takes at most {limit} tokens "
                              f"(max_position_embeddings / the tokenizer's model_max_length); use {limit} or less")
