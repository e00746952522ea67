"""Tokenized features of one dataset, cached on disk as arrays (see :mod:`mtdnn_core.data.store`).

The cache key covers everything the features depend on, as ``datasets`` fingerprints do: the
input file's content, the task type and the data format (its registered name, the plugin and
version that registered it, and a hash of the code of its classes), the tokenizer's full state,
the maximum length, the task's labels, and which rows were selected. Sample caps and fractions
apply to the rows before tokenization, so a run on 64 sentences tokenizes 64 sentences.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import math
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from mtdnn_core.config import TaskDef
from mtdnn_core.data.store import FeatureStore, FeatureWriter
from mtdnn_core.io import file_sha256

CACHE_VERSION = 2
ENCODE_CHUNK = 2000


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


@cache
def _class_code_hash(cls: type) -> str:
    digest = hashlib.sha256()
    for klass in cls.__mro__:
        if klass is object:
            continue
        try:  # the whole module: helper functions a reader calls change its output too
            digest.update(Path(inspect.getsourcefile(klass)).read_bytes())
        except (OSError, TypeError):  # built without source: its qualified name is all we have
            digest.update(f"{klass.__module__}.{klass.__qualname__}".encode())
    return digest.hexdigest()[:16]


def code_fingerprint(obj: Any) -> str:
    """A hash of the source modules of ``obj``'s class and its base classes."""
    return _class_code_hash(type(obj))


@dataclass
class Selection:
    """Which rows of a file to keep, applied before tokenization: a deterministic share
    (``fraction``, by uid hash) and then the first ``limit`` rows."""

    fraction: float | None = None
    limit: int | None = None

    def apply(self, examples: list) -> list:
        if self.fraction is not None and self.fraction < 1:
            examples = deterministic_subset(examples, self.fraction)
        if self.limit is not None:
            examples = examples[: self.limit]
        return examples

    def key(self) -> dict:
        return {"fraction": self.fraction, "limit": self.limit}


def deterministic_subset(examples: list, fraction: float) -> list:
    """The rows whose uid hashes lowest: the same rows for every run and seed, and nested
    (the 1% subset contains the 0.1% one)."""
    uids = sorted({e.uid for e in examples}, key=lambda u: hashlib.sha256(str(u).encode()).hexdigest())
    keep = set(uids[: max(1, math.ceil(len(uids) * fraction))])
    return [e for e in examples if e.uid in keep]


@dataclass
class TaskDataset:
    """One dataset (``rte_dev``): the features of a split of one task, read lazily."""

    name: str
    task: TaskDef
    split: str
    store: FeatureStore
    task_type: Any
    source: Path | None = None
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.store)

    def rows(self, indices) -> list[dict]:
        return self.store.rows_at(indices)

    @property
    def has_labels(self) -> bool:
        return bool(self.store.present("label").any())

    def unlabeled(self) -> np.ndarray:
        """Indices of rows without a label."""
        return np.flatnonzero(~self.store.present("label"))

    def lengths(self) -> np.ndarray:
        return self.task_type.lengths(self.store)

    def collate(self, indices, pad_id: int) -> dict:
        return self.task_type.collate(self.rows(indices), pad_id)


def feature_key(path: Path, task: TaskDef, task_type: Any, data_format: Any, format_origin: str, tokenizer: Any,
                max_len: int, selection: Selection) -> str:
    parts = {
        "version": CACHE_VERSION,
        "file": file_sha256(path),
        "task_type": [task_type.name, code_fingerprint(task_type)],
        "format": [data_format.name, format_origin, code_fingerprint(data_format)],
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "max_len": max_len,
        "task": task.model_dump(include={"labels", "n_class"}),
        "select": selection.key(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def encode_file(path: Path, task: TaskDef, task_type: Any, data_format: Any, tokenizer: Any, max_len: int,
                cache_dir: Path | None = None, selection: Selection | None = None, format_origin: str = "",
                progress: bool = False) -> FeatureStore:
    """Read, select and tokenize ``path`` into a feature store, reusing the cache when the key
    matches. Without ``cache_dir`` the store lives in a temporary directory for this process."""
    path = Path(path)
    selection = selection or Selection()
    if cache_dir is None:
        cache_dir = Path(tempfile.mkdtemp(prefix="mtdnn-features-"))
    key = feature_key(path, task, task_type, data_format, format_origin, tokenizer, max_len, selection)
    target = Path(cache_dir) / f"{path.stem}.{key}"
    if (target / "meta.json").is_file():
        return FeatureStore(target)
    examples = data_format.read(path, task, task_type)
    unlabeled = [e.uid for e in examples if e.label is None]
    if unlabeled and len(unlabeled) < len(examples):
        from mtdnn_core.errors import DataError

        raise DataError(f"{path}: {len(unlabeled)} of {len(examples)} rows have no label (first: uid {unlabeled[0]}); "
                        f"label every row, or none (an unlabeled test set)")
    examples = selection.apply(examples)
    writer = FeatureWriter(target)
    try:
        chunks = range(0, len(examples), ENCODE_CHUNK)
        if progress and len(examples) > ENCODE_CHUNK:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, desc=f"tokenize {path.name}", unit="chunk")
        for start in chunks:
            writer.add(data_format.encode(examples[start : start + ENCODE_CHUNK], tokenizer, max_len, task))
        return writer.finish({"source": str(path), "examples": len(examples)}, keep_existing=True)
    except OSError as exc:  # a full disk: one message naming the cache, no partial store left
        from mtdnn_core.io import WriteError

        writer.abort()
        raise WriteError(exc.errno, f"{target}: writing the feature cache failed ({exc.strerror or exc}); the partial "
                                    f"files were removed; free space or choose another --cache-dir") from None
    except BaseException:
        writer.abort()
        raise
