"""Features on disk as flat arrays, read lazily through memory maps.

A feature is a dict of fields. Each field is stored by its shape:

* ``scalar``: a number per row (``label``, ``n_words``), with a presence mask for ``None``;
* ``ragged``: a list of numbers per row (``input_ids``), values concatenated plus row offsets;
* ``ragged2``: a list of lists of numbers per row (a ranking sample's candidates);
* ``json``: anything else (uids, words), UTF-8 JSON bytes plus row offsets.

Written once, in chunks (so tokenizing 400k rows never holds them all as Python lists), into a
temporary directory renamed into place; opened with ``numpy.memmap``, so a run starts without
reading its features and worker processes share the pages. Hand-written rather than Arrow
through ``datasets``: it keeps a heavy dependency out of the core and is faster for this shape
of data (see benchmarks/prepro.py).
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from array import array
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from mtdnn_core.errors import MtdnnError

FORMAT_VERSION = 1
META = "meta.json"
INT32 = np.iinfo(np.int32)


_INTS = (int, np.integer)
_FLOATS = (float, np.floating)
_LISTS = (list, tuple, np.ndarray)


def _number(x: Any) -> str | None:
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, _INTS):
        return "int"
    if isinstance(x, _FLOATS):
        return "float"
    return None


def _kind_of(value: Any) -> tuple[str, str] | None:
    """(kind, dtype) of one value, judged by its first element (the writer checks the rest as it
    converts), or None when it says nothing (None, an empty list)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "scalar", "bool"
    number = _number(value)
    if number is not None:
        return "scalar", "int64" if number == "int" else "float64"
    if isinstance(value, _LISTS):
        if len(value) == 0:  # fits a list of numbers and a list of lists alike
            return None
        first = value[0]
        number = _number(first)
        if number is not None:
            return "ragged", "int32" if number == "int" else "float64"
        if isinstance(first, _LISTS):
            inner = next((v[0] for v in value if len(v)), None)
            number = _number(inner) if inner is not None else "int"
            if number is not None:
                return "ragged2", "int32" if number == "int" else "float64"
    return "json", "bytes"


class _Field:
    def __init__(self, directory: Path, name: str, kind: str, dtype: str):
        self.name, self.kind, self.dtype = name, kind, dtype
        self.values = open(directory / f"{name}.bin", "wb")  # noqa: SIM115 - closed in finish()
        self.offsets = array("q", [0])
        self.inner = array("q", [0])
        self.present = array("b")
        self.count = 0

    def add(self, values: list) -> None:
        self.present.extend(0 if v is None else 1 for v in values)
        if self.kind == "scalar":
            fill = 0 if self.dtype != "float64" else np.nan
            arr = np.array([fill if v is None else v for v in values], dtype=self.dtype)
            self._write(arr)
            return
        if self.kind == "json":
            blobs = [json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode() for v in values]
            for blob in blobs:
                self.offsets.append(self.offsets[-1] + len(blob))
            self.values.write(b"".join(blobs))
            return
        rows = [() if v is None else v for v in values]
        if self.kind == "ragged2":
            lists = [inner for row in rows for inner in row]
            for row in rows:
                self.offsets.append(self.offsets[-1] + len(row))
            for inner in lists:
                self.inner.append(self.inner[-1] + len(inner))
            rows = lists
        else:
            for row in rows:
                self.offsets.append(self.offsets[-1] + len(row))
        total = sum(len(r) for r in rows)
        try:
            arr = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.float64, count=total)
        except (TypeError, ValueError):
            raise MtdnnError(f"feature '{self.name}' holds something other than numbers in a number list") from None
        if self.dtype == "int32":
            if total and (not np.array_equal(arr, np.rint(arr)) or arr.min() < INT32.min or arr.max() > INT32.max):
                raise MtdnnError(f"feature '{self.name}' mixes whole numbers with fractions or leaves the int32 range")
            arr = arr.astype(np.int32)
        self._write(arr)

    def _write(self, arr: np.ndarray) -> None:
        self.values.write(np.ascontiguousarray(arr).tobytes())
        self.count += len(arr)

    def finish(self, directory: Path) -> dict:
        self.values.close()
        if self.kind != "scalar":
            np.save(directory / f"{self.name}.offsets.npy", np.frombuffer(self.offsets, dtype=np.int64))
        if self.kind == "ragged2":
            np.save(directory / f"{self.name}.inner.npy", np.frombuffer(self.inner, dtype=np.int64))
        np.save(directory / f"{self.name}.present.npy", np.frombuffer(self.present, dtype=np.int8).astype(bool))
        return {"kind": self.kind, "dtype": self.dtype, "count": self.count}


class FeatureWriter:
    """Writes features chunk by chunk; :meth:`finish` makes the store appear atomically."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        # a name of its own, so writers of the same store (torchrun's ranks, runs sharing a cache) never meet
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.tmp-", dir=self.directory.parent))
        self.fields: dict[str, _Field] = {}
        self.rows = 0

    def add(self, features: list[dict]) -> None:
        if not features:
            return
        names = dict.fromkeys(k for f in features for k in f)
        for name in self.fields:
            names.setdefault(name, None)
        for name in names:
            values = [f.get(name) for f in features]
            field = self.fields.get(name)
            if field is None:
                kinds = {k for k in map(_kind_of, values) if k is not None}
                if not kinds and any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
                    kinds = {("ragged", "int32")}  # only empty lists so far
                kind = self._settle(name, kinds)
                field = self.fields[name] = _Field(self.tmp, name, *kind)
                if self.rows:  # a field first seen after some rows: those rows lack it
                    field.add([None] * self.rows)
            else:
                self._check(field, values)
            field.add(values)
        self.rows += len(features)

    @staticmethod
    def _settle(name: str, kinds: set[tuple[str, str]]) -> tuple[str, str]:
        if not kinds:
            return "json", "bytes"
        if len(kinds) == 1:
            return next(iter(kinds))
        if {k for k, _ in kinds} == {"scalar"} and {d for _, d in kinds} <= {"int64", "float64"}:
            return "scalar", "float64"
        if {k for k, _ in kinds} in ({"ragged"}, {"ragged2"}) and {d for _, d in kinds} == {"int32", "float64"}:
            return next(iter(kinds))[0], "float64"
        return "json", "bytes"

    def _check(self, field: _Field, values: list) -> None:
        if field.kind == "json":
            return
        for value in values:
            kind = _kind_of(value)
            if kind is None or kind == (field.kind, field.dtype):
                continue
            if kind[0] == field.kind and field.dtype == "float64":
                continue
            if kind[0] == field.kind == "scalar" and kind[1] == "float64":
                raise MtdnnError(f"feature '{field.name}' holds whole numbers, then a fraction ({value})")
            raise MtdnnError(f"feature '{field.name}' changes shape between rows ({field.kind} {field.dtype}, then {kind})")

    def finish(self, meta: dict | None = None, keep_existing: bool = False) -> FeatureStore:
        """Put the store in place. ``keep_existing``: a complete store already there (written by
        another process from the same inputs, as the cache's content-keyed names guarantee) is
        kept and this copy dropped, so concurrent writers never remove a store another one reads."""
        info = {"version": FORMAT_VERSION, "rows": self.rows,
                "fields": {name: field.finish(self.tmp) for name, field in self.fields.items()}, **(meta or {})}
        (self.tmp / META).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
        if keep_existing:
            for attempt in range(3):
                try:
                    os.replace(self.tmp, self.directory)  # fails on a non-empty directory: never replaces a store
                    break
                except OSError:
                    if (self.directory / META).is_file():  # another writer got there first
                        shutil.rmtree(self.tmp, ignore_errors=True)
                        break
                    if attempt == 2 or not self.directory.exists():
                        raise
                    shutil.rmtree(self.directory, ignore_errors=True)  # the remains of a store never finished
            return FeatureStore(self.directory)
        if self.directory.exists():
            shutil.rmtree(self.directory)
        os.replace(self.tmp, self.directory)
        return FeatureStore(self.directory)

    def abort(self) -> None:
        for field in self.fields.values():
            try:
                field.values.close()
            except OSError:  # the flush of a write that already failed (a full disk) fails again
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_store(directory: str | Path, features: list[dict], meta: dict | None = None) -> FeatureStore:
    writer = FeatureWriter(directory)
    try:
        writer.add(features)
        return writer.finish(meta)
    except BaseException:
        writer.abort()
        raise


class FeatureStore:
    """Read-only view of a written store: ``store[i]`` is a feature dict (numbers as Python
    scalars, number lists as NumPy arrays, nested lists as lists of arrays)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        meta_path = self.directory / META
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MtdnnError(f"{meta_path}: not a readable feature store ({exc}); delete {self.directory} to rebuild it") from None
        if self.meta.get("version") != FORMAT_VERSION:
            raise MtdnnError(f"{self.directory}: feature store version {self.meta.get('version')}, expected {FORMAT_VERSION}")
        self.rows = int(self.meta["rows"])
        self.fields: dict[str, dict] = self.meta["fields"]
        self._cache: dict[str, Any] = {}

    def __len__(self) -> int:
        return self.rows

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def _array(self, name: str, suffix: str) -> np.ndarray:
        key = f"{name}.{suffix}"
        if key not in self._cache:
            if suffix == "bin":
                info = self.fields[name]
                dtype = np.uint8 if info["kind"] == "json" else np.dtype(info["dtype"])
                path = self.directory / f"{name}.bin"
                size = path.stat().st_size
                self._cache[key] = np.memmap(path, dtype=dtype, mode="r") if size else np.zeros(0, dtype=dtype)
            else:
                self._cache[key] = np.load(self.directory / f"{name}.{suffix}.npy", mmap_mode="r")
        return self._cache[key]

    def value(self, name: str, i: int) -> Any:
        info = self.fields[name]
        if not self._array(name, "present")[i]:
            return None
        data = self._array(name, "bin")
        kind = info["kind"]
        if kind == "scalar":
            return data[i].item()
        offsets = self._array(name, "offsets")
        start, end = int(offsets[i]), int(offsets[i + 1])
        if kind == "ragged":
            return np.asarray(data[start:end])
        if kind == "json":
            return json.loads(bytes(data[start:end]))
        inner = self._array(name, "inner")
        return [np.asarray(data[int(inner[j]) : int(inner[j + 1])]) for j in range(start, end)]

    def __getitem__(self, i: int) -> dict:
        if not -self.rows <= i < self.rows:
            raise IndexError(i)
        i %= self.rows
        return {name: self.value(name, i) for name in self.fields}

    def rows_at(self, indices) -> list[dict]:
        return [self[int(i)] for i in indices]

    def column(self, name: str) -> list:
        """Every row's value of one field (small fields: labels, uids)."""
        if name not in self.fields:
            return [None] * self.rows
        info = self.fields[name]
        if info["kind"] == "scalar":
            present = self._array(name, "present")
            data = np.asarray(self._array(name, "bin"))
            return [v if p else None for v, p in zip(data.tolist(), present.tolist())]
        return [self.value(name, i) for i in range(self.rows)]

    def present(self, name: str) -> np.ndarray:
        if name not in self.fields:
            return np.zeros(self.rows, dtype=bool)
        return np.asarray(self._array(name, "present"))

    def lengths(self, name: str) -> np.ndarray:
        """Items per row of a ragged field (tokens per sample for ``input_ids``)."""
        return np.diff(np.asarray(self._array(name, "offsets")))

    def nested_lengths(self, name: str) -> np.ndarray:
        """Per row of a nested field: its longest inner list times the number of inner lists."""
        outer = np.asarray(self._array(name, "offsets"))
        inner = np.diff(np.asarray(self._array(name, "inner")))
        counts = np.diff(outer)
        longest = np.zeros(self.rows, dtype=np.int64)
        nonempty = counts > 0
        if inner.size:
            longest[nonempty] = np.maximum.reduceat(inner, outer[:-1][nonempty])
        return longest * counts
