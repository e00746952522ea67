"""Canonical data formats: read a TSV file into examples, encode examples into features.

Formats (the original toolkit's names):

* ``PremiseOnly``: ``uid, label, premise``
* ``PremiseAndOneHypothesis``: ``uid, label, premise, hypothesis``
* ``PremiseAndMultiHypothesis``: ``uid, candidate ids (comma-joined), label, premise, hyp1, ...``
* ``Sequence``: ``uid, label list, word list`` (lists as JSON, Python literals or space-separated)

Nothing is ``eval``-ed; a malformed row raises :class:`DataError` naming file, row and column.
An empty label means "unlabeled" (test sets).
"""
from __future__ import annotations

import codecs

import ast
import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtdnn_core.config import TaskDef
from mtdnn_core.errors import DataError

IGNORE_INDEX = -100
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Example:
    uid: str
    label: Any  # int class id, float, int candidate index, list of tag ids, or None
    texts: list[str] = field(default_factory=list)  # premise[, hypothesis | candidates...]
    words: list[str] | None = None  # Sequence format


def read_tsv_rows(path: Path):
    """Yield (row number, fields) of a tab-separated file, quoting off, BOM stripped."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            for number, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
                if row and any(cell.strip() for cell in row):
                    yield number, row
        except UnicodeDecodeError:
            raise not_utf8(path) from None


def not_utf8(path: Path) -> DataError:
    """The error for a file that is not UTF-8, naming its first bad line and byte."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return DataError(f"{path}:{number}: not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}); "
                                 f"convert the file, e.g. iconv -f latin1 -t utf-8 {Path(path).name} > "
                                 f"utf8{Path(path).suffix or '.txt'}")
    return DataError(f"{path}: not UTF-8; convert the file to UTF-8")  # pragma: no cover


def check_utf8(path: Path) -> None:
    """Raise :func:`not_utf8` unless the whole file is UTF-8; read in chunks, so a corpus of any
    size is checked before a command creates anything."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise not_utf8(path) from None


HEADER_WORDS = {"label", "index", "id", "sentence", "sentence1", "sentence2", "question", "quality", "gold_label",
                "#1 string", "#2 string", "score", "premise", "hypothesis"}


class DataFormat:
    """How one canonical format is read and encoded. Subclass for new formats."""

    name: str = ""
    min_columns: int = 0
    max_columns: int | None = None
    columns: str = ""
    #: True when ``parse_row`` parses label cells with ``task_type.parse_label`` (the built-in text
    #: formats): a task type read with it must then implement ``parse_label``, checked at validation
    reads_label_cells: bool = False

    def read(self, path: Path, task: TaskDef, task_type: Any) -> list[Example]:
        """Every row of ``path`` as an :class:`Example`; label cells parse through ``task_type``."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"{path}: no such file (task '{task.name}')")
        examples = []
        unlabeled = labelled = 0
        first_unlabeled = None
        for number, row in read_tsv_rows(path):
            if number == 1 and sum(cell.strip().lower() in HEADER_WORDS for cell in row) >= 2:
                raise DataError(f"{path}:1: the first row is a header ({' | '.join(row[:4])}): this looks like a data "
                                f"set's file as distributed; canonical files have no header (uid, label, text...): "
                                f"convert it with the plugin of its data set (`mtdnn plugins` lists them and their "
                                f"commands), or load that plugin and give --data-dir the data set's directory")
            if len(row) < self.min_columns or (self.max_columns and len(row) > self.max_columns):
                expected = (
                    str(self.min_columns)
                    if self.max_columns == self.min_columns
                    else f"at least {self.min_columns}"
                )
                raise DataError(
                    f"{path}:{number}: {len(row)} column(s), expected {expected} ({self.columns}) "
                    f"for data_format {self.name}"
                )
            example = self.parse_row(row, task, task_type, f"{path}:{number}")
            if example.label is None:
                unlabeled += 1
                first_unlabeled = first_unlabeled or number
            else:
                labelled += 1
            examples.append(example)
        if not examples:
            raise DataError(f"{path}: no rows (task '{task.name}')")
        if unlabeled and labelled:
            raise DataError(f"{path}:{first_unlabeled}: no label, while {labelled} other row(s) have one "
                            f"({unlabeled} row(s) without); label every row, or none (an unlabeled test set)")
        return examples

    def parse_row(self, row: list[str], task: TaskDef, task_type: Any, where: str) -> Example:  # pragma: no cover
        raise NotImplementedError

    def encode(self, examples: list[Example], tokenizer: Any, max_len: int, task: TaskDef) -> list[dict]:
        """Tokenize examples into features: dicts with ``input_ids``, ``token_type_ids``,
        ``segment_ids`` (0 first text, 1 second, -1 special tokens), ``label`` and ``uid``
        (see :mod:`mtdnn_core.data.store` for the values a feature may hold)."""
        raise NotImplementedError  # pragma: no cover


def _encode_texts(tokenizer: Any, first: list[str], second: list[str] | None, max_len: int) -> list[dict]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return _encode_with_backend(backend, first, second, max_len)
    enc = tokenizer(
        first,
        second,
        truncation="longest_first" if second is not None else True,
        max_length=max_len,
        return_token_type_ids=True,
    )
    out = []
    for i, ids in enumerate(enc["input_ids"]):
        segments = [-1 if s is None else s for s in enc.sequence_ids(i)]
        out.append({"input_ids": ids, "token_type_ids": enc["token_type_ids"][i], "segment_ids": segments})
    return out


def _encode_with_backend(backend: Any, first: list[str], second: list[str] | None, max_len: int) -> list[dict]:
    """The same features as the ``transformers`` call above (special tokens added, longest-first
    truncation), straight from the ``tokenizers`` backend: a quarter less time on large sets,
    which the wrapper spends converting every encoding to Python dicts it then throws away."""
    truncation, padding = backend.truncation, backend.padding
    backend.enable_truncation(max_len, strategy="longest_first")
    backend.no_padding()
    try:
        encodings = backend.encode_batch(first if second is None else list(zip(first, second)), add_special_tokens=True)
    finally:
        if truncation:
            backend.enable_truncation(**truncation)
        else:
            backend.no_truncation()
        if padding:
            backend.enable_padding(**padding)
    return [{"input_ids": e.ids, "token_type_ids": e.type_ids,
             "segment_ids": [-1 if s is None else s for s in e.sequence_ids]} for e in encodings]


class PremiseOnly(DataFormat):
    name = "PremiseOnly"
    reads_label_cells = True
    min_columns = max_columns = 3
    columns = "uid, label, premise"

    def parse_row(self, row, task, task_type, where):
        return Example(uid=row[0], label=task_type.parse_label(row[1], task, where), texts=[row[2]])

    def encode(self, examples, tokenizer, max_len, task):
        feats = _encode_texts(tokenizer, [e.texts[0] for e in examples], None, max_len)
        return [{"uid": e.uid, "label": e.label, **f} for e, f in zip(examples, feats)]


class PremiseAndOneHypothesis(DataFormat):
    name = "PremiseAndOneHypothesis"
    reads_label_cells = True
    min_columns = max_columns = 4
    columns = "uid, label, premise, hypothesis"

    def parse_row(self, row, task, task_type, where):
        return Example(uid=row[0], label=task_type.parse_label(row[1], task, where), texts=[row[2], row[3]])

    def encode(self, examples, tokenizer, max_len, task):
        feats = _encode_texts(tokenizer, [e.texts[0] for e in examples], [e.texts[1] for e in examples], max_len)
        return [{"uid": e.uid, "label": e.label, **f} for e, f in zip(examples, feats)]


class PremiseAndMultiHypothesis(DataFormat):
    name = "PremiseAndMultiHypothesis"
    min_columns = 5
    columns = "uid, candidate ids, label, premise, hypothesis 1, hypothesis 2, ..."

    def parse_row(self, row, task, task_type, where):
        candidates = row[4:]
        raw = row[2].strip()
        label = None
        if raw:
            ids = [c.strip() for c in row[1].split(",")]
            if raw in ids and not raw.isdigit():
                label = ids.index(raw)
            else:
                try:
                    label = int(raw)
                except ValueError:
                    raise DataError(f"{where}: column 'label': '{raw}' is neither a candidate index nor a candidate id") from None
            if not 0 <= label < len(candidates):
                raise DataError(f"{where}: column 'label': index {label} but the row has {len(candidates)} candidates")
        return Example(uid=row[0], label=label, texts=[row[3], *candidates])

    def encode(self, examples, tokenizer, max_len, task):
        firsts, seconds, owners = [], [], []
        for n, e in enumerate(examples):
            for hyp in e.texts[1:]:
                firsts.append(e.texts[0])
                seconds.append(hyp)
                owners.append(n)
        feats = _encode_texts(tokenizer, firsts, seconds, max_len)
        keys = ("input_ids", "token_type_ids", "segment_ids")
        out = [{"uid": e.uid, "label": e.label, **{k: [] for k in keys}} for e in examples]
        for owner, f in zip(owners, feats):  # one list per candidate
            for k in keys:
                out[owner][k].append(f[k])
        return out


def parse_list(cell: str, where: str, column: str) -> list[str]:
    """A list cell: JSON, a Python list literal (parsed, never evaluated) or space-separated."""
    text = cell.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(text)  # literals only: no code runs
            except (ValueError, SyntaxError):
                raise DataError(f"{where}: column '{column}': not a valid list") from None
        if not isinstance(value, list):
            raise DataError(f"{where}: column '{column}': not a list")
        return [str(v) for v in value]
    return text.split()


class Sequence(DataFormat):
    name = "Sequence"
    reads_label_cells = True
    min_columns = max_columns = 3
    columns = "uid, label list, word list"

    def parse_row(self, row, task, task_type, where):
        words = parse_list(row[2], where, "words")
        tags = parse_list(row[1], where, "labels")
        labels = None
        if tags:
            if len(tags) != len(words):
                raise DataError(f"{where}: {len(tags)} labels for {len(words)} words")
            labels = [task_type.parse_label(t, task, where) for t in tags]
        return Example(uid=row[0], label=labels, words=words)

    def encode(self, examples, tokenizer, max_len, task):
        """Label the first sub-token of each word. A sentence longer than ``max_len`` is split
        into overlapping windows of whole words (one feature each, sharing the uid); the
        evaluator stitches their predictions back so every word gets exactly one."""
        budget = max_len - tokenizer.num_special_tokens_to_add(pair=False)
        whole = tokenizer([e.words for e in examples], is_split_into_words=True, truncation=False,
                          return_token_type_ids=True)
        out = []
        for i, e in enumerate(examples):
            word_ids = whole.word_ids(i)
            if len(word_ids) <= max_len:
                out.append(self._feature(e, 0, word_ids, whole["input_ids"][i], whole["token_type_ids"][i]))
                continue
            counts = [0] * len(e.words)
            for w in word_ids:
                if w is not None:
                    counts[w] += 1
            for start, end in word_windows(counts, budget):
                enc = tokenizer(e.words[start:end], is_split_into_words=True, truncation=True, max_length=max_len,
                                return_token_type_ids=True)
                out.append(self._feature(e, start, enc.word_ids(0), enc["input_ids"], enc["token_type_ids"]))
        return out

    @staticmethod
    def _feature(e: Example, start: int, word_ids: list, input_ids: list, token_type_ids: list) -> dict:
        tags, previous = [], None
        for w in word_ids:
            first = w is not None and w != previous
            tags.append(e.label[start + w] if first and e.label is not None else IGNORE_INDEX)
            previous = w
        feature = {
            "uid": e.uid,
            "label": tags if e.label is not None else None,
            "word_ids": [-1 if w is None else w for w in word_ids],
            "word_offset": start,
            "n_words": len(e.words),
            "input_ids": input_ids,
            "token_type_ids": token_type_ids,
            "segment_ids": [-1 if w is None else 0 for w in word_ids],
        }
        if start == 0:  # the whole sentence, once, for word-level scoring and readable outputs
            feature["words"] = e.words
            feature["word_labels"] = e.label
        return feature


def word_windows(token_counts: list[int], budget: int, overlap: float = 0.25) -> list[tuple[int, int]]:
    """Split words into windows of at most ``budget`` sub-tokens; consecutive windows share
    about ``overlap`` of a window. Every word lies in at least one window; a single word longer
    than the budget gets a window of its own."""
    windows, start, n = [], 0, len(token_counts)
    while start < n:
        end, used = start, 0
        while end < n and (used + token_counts[end] <= budget or end == start):
            used += token_counts[end]
            end += 1
        windows.append((start, end))
        if end == n:
            break
        # step back while the shared part stays within the overlap budget
        nxt, shared = end, 0
        while nxt - 1 > start and shared + token_counts[nxt - 1] <= overlap * budget:
            nxt -= 1
            shared += token_counts[nxt]
        start = nxt
    return windows


BUILTIN_FORMATS = (PremiseOnly(), PremiseAndOneHypothesis(), PremiseAndMultiHypothesis(), Sequence())
