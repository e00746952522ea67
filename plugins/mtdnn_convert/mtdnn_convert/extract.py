"""``mtdnn extract``: hidden states of chosen layers for each input line, pooled.

Output, by the extension of ``--output``:

* ``.jsonl`` / ``.json``: one object per input line,
  ``{"line": i, "features": [{"layer": -1, "values": [...]}, ...]}`` where ``values`` is a
  vector (``first``: the first token, ``mean``: the average over the line's tokens, special
  tokens included, padding excluded) or, for ``all``, one vector per token, with the line's
  ``"tokens"`` beside. ``line`` counts from 0.
* ``.npy``: a float32 array ``[lines, layers, hidden]`` (``first`` and ``mean`` only).
"""
from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from mtdnn_convert.errors import ConversionError
from mtdnn_convert.extract_inputs import InputLine
from mtdnn_convert.outdir import current_umask

Pooling = Literal["first", "mean", "all"]
JSON_SUFFIXES, NPY_SUFFIXES = (".jsonl", ".json"), (".npy",)


@dataclass
class ExtractStats:
    lines: int
    seconds: float

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else float("inf")


def output_kind(path: Path, pooling: Pooling) -> str:
    suffix = path.suffix.lower()
    if suffix in NPY_SUFFIXES:
        if pooling == "all":
            raise ConversionError(f"{path}: --pooling all gives one vector per token and lines differ in length; "
                                  f"write it as .jsonl, or pool with first/mean for .npy")
        return "npy"
    if suffix in JSON_SUFFIXES:
        return "jsonl"
    raise ConversionError(f"{path}: unknown output type '{suffix}'; use .jsonl (JSON lines) or .npy")


def encode_lines(lines: list[InputLine], tokenizer: Any, max_len: int) -> list[dict]:
    return [dict(tokenizer(line.text, line.pair, truncation=True, max_length=max_len)) for line in lines]


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: Pooling) -> list[torch.Tensor]:
    """Per row of ``hidden`` [B, T, H]: the first real token, the masked mean, or every real
    token (whichever side the tokenizer pads)."""
    real = mask.bool()
    if pooling == "first":
        first = real.int().argmax(1)
        return list(hidden[torch.arange(hidden.shape[0]), first])
    if pooling == "mean":
        weights = real.unsqueeze(-1).to(hidden.dtype)
        return list((hidden * weights).sum(1) / weights.sum(1))
    return [hidden[i][real[i]] for i in range(hidden.shape[0])]


@torch.no_grad()
def run_encoder(encoder: Any, tokenizer: Any, encodings: list[dict], layers: list[int], pooling: Pooling,
                batch_size: int, device: torch.device, progress: Any = None) -> list[list[torch.Tensor]]:
    """Per input line, one tensor per requested layer (in ``layers`` order). Lines are batched
    by length, so little of each batch is padding, and returned in input order."""
    from mtdnn_core.api import accepts_token_type_ids

    use_types = accepts_token_type_ids(encoder)
    encoder.eval()
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i]["input_ids"]))
    results: list[list[torch.Tensor]] = [[] for _ in encodings]
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        batch = tokenizer.pad([encodings[i] for i in rows], return_tensors="pt")
        inputs = {"input_ids": batch["input_ids"].to(device), "attention_mask": batch["attention_mask"].to(device)}
        if use_types and "token_type_ids" in batch:
            inputs["token_type_ids"] = batch["token_type_ids"].to(device)
        states = encoder(**inputs, output_hidden_states=True, return_dict=True).hidden_states
        mask = inputs["attention_mask"]
        per_layer = [pool(states[layer].float(), mask, pooling) for layer in layers]
        for k, row in enumerate(rows):
            results[row] = [per_layer[j][k].cpu() for j in range(len(layers))]
        if progress is not None:
            progress.update(len(rows))
    return results


def _json_record(index: int, vectors: list[torch.Tensor], layers: list[int], tokens: list[str] | None) -> str:
    record: dict[str, Any] = {"line": index}
    if tokens is not None:
        record["tokens"] = tokens
    record["features"] = [{"layer": layer, "values": vector.tolist()} for layer, vector in zip(layers, vectors)]
    return json.dumps(record)


def extract(encoder: Any, tokenizer: Any, lines: list[InputLine], output: Path, layers: list[int], pooling: Pooling,
            batch_size: int = 32, max_len: int = 512, device: str = "cpu", progress: bool = True) -> ExtractStats:
    """Encode ``lines`` and write the pooled states to ``output`` (atomically)."""
    from tqdm.auto import tqdm

    output = Path(output)
    kind = output_kind(output, pooling)
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device)
    encoder.to(dev)
    started = time.perf_counter()  # tokenization counts: it is part of the work per line
    encodings = encode_lines(lines, tokenizer, max_len)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.fchmod(fd, 0o666 & ~current_umask())  # as a plain open() would create it (mkstemp makes it private)
    try:
        with os.fdopen(fd, "wb") as handle, tqdm(total=len(lines), unit="line", disable=not progress,
                                                 file=sys.stderr) as bar:
            rows = run_encoder(encoder, tokenizer, encodings, layers, pooling, batch_size, dev, bar)
            if kind == "npy":
                array = np.stack([torch.stack(vectors).numpy() for vectors in rows]).astype(np.float32)
                buffer = io.BytesIO()
                np.save(buffer, array)
                handle.write(buffer.getvalue())
            else:
                for index, vectors in enumerate(rows):
                    tokens = tokenizer.convert_ids_to_tokens(encodings[index]["input_ids"]) if pooling == "all" else None
                    handle.write((_json_record(index, vectors, layers, tokens) + "\n").encode("utf-8"))
        os.replace(tmp_name, output)
    except OSError as exc:  # a full disk: one message, no partial file, the old output kept
        Path(tmp_name).unlink(missing_ok=True)
        raise ConversionError(f"--output {output}: writing failed ({exc.strerror or exc}); the partial output was "
                              f"removed; free space or choose another location") from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return ExtractStats(len(lines), time.perf_counter() - started)
