"""Tokenized features of one dataset, cached on disk.

The cache key covers the tokenizer (name and vocabulary), the maximum length, the data format,
the task's labels and the input file's content, so a changed file or tokenizer never reuses
stale features. Cache files are JSON lines, one feature per line, written atomically.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtdnn_core.config import TaskDef
from mtdnn_core.io import atomic_write_text, file_sha256

CACHE_VERSION = 1
ENCODE_CHUNK = 1000


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """Identify a tokenizer by its full serialized state (falls back to its vocabulary)."""
    cached = getattr(tokenizer, "_mtdnn_fingerprint", None)
    if cached:
        return cached
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        state = backend.to_str()
    else:
        state = json.dumps(sorted(tokenizer.get_vocab().items()))
    digest = hashlib.sha256(f"{type(tokenizer).__name__}\n{state}".encode()).hexdigest()[:16]
    try:
        tokenizer._mtdnn_fingerprint = digest
    except AttributeError:  # pragma: no cover
        pass
    return digest


@dataclass
class TaskDataset:
    """One dataset (``rte_dev``): the features of a split of one task."""

    name: str
    task: TaskDef
    split: str
    features: list[dict]
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.features)

    @property
    def has_labels(self) -> bool:
        return any(f["label"] is not None for f in self.features)

    def lengths(self) -> list[int]:
        out = []
        for f in self.features:
            if "candidates" in f:
                out.append(max(len(c["input_ids"]) for c in f["candidates"]) * len(f["candidates"]))
            else:
                out.append(len(f["input_ids"]))
        return out


def encode_file(
    path: Path,
    task: TaskDef,
    data_format: Any,
    tokenizer: Any,
    max_len: int,
    cache_dir: Path | None = None,
    progress: bool = False,
) -> list[dict]:
    """Read and tokenize ``path``, reusing the on-disk cache when the key matches."""
    path = Path(path)
    key_parts = {
        "version": CACHE_VERSION,
        "file": file_sha256(path),
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "max_len": max_len,
        "format": data_format.name,
        "task": task.model_dump(include={"task_type", "labels", "n_class"}),
    }
    key = hashlib.sha256(json.dumps(key_parts, sort_keys=True).encode()).hexdigest()[:20]
    cache_file = Path(cache_dir) / f"{path.stem}.{key}.jsonl" if cache_dir else None
    if cache_file is not None and cache_file.is_file():
        with open(cache_file, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle]
    examples = data_format.read(path, task)
    features: list[dict] = []
    chunks = range(0, len(examples), ENCODE_CHUNK)
    if progress and len(examples) > ENCODE_CHUNK:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=f"tokenize {path.name}", unit="chunk")
    for start in chunks:
        features.extend(data_format.encode(examples[start : start + ENCODE_CHUNK], tokenizer, max_len, task))
    if cache_file is not None:
        atomic_write_text(cache_file, "".join(json.dumps(f, separators=(",", ":")) + "\n" for f in features))
    return features
