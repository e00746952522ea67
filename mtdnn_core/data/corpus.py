"""Text corpora for masked language modelling: the ``MLM`` data format and the ``mlm`` task's files.

A corpus is plain text (one document per line) or JSON lines with a ``text`` field (optionally
``id``; paragraphs separated by newlines), e.g. a Wikipedia dump. Each document is tokenized and
cut into blocks of at most ``max_len`` tokens (special tokens included) at word boundaries; a
block is one row (uid ``<document>.<block>``). Rows carry character offsets (for whole-word
masking) and the tokenizer's [MASK] id and vocabulary size (so batches mask without a tokenizer).

Without a dev file, the ``mlm`` task holds out every tenth paragraph of the training corpus
(deterministically) as its dev set, written beside the run's other converted data.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mtdnn_core.data.formats import DataFormat, Example, not_utf8
from mtdnn_core.errors import DataError
from mtdnn_core.io import atomic_write_text, file_sha256

CORPUS_SUFFIXES = (".jsonl", ".json", ".txt", ".tsv")
HELD_OUT_EVERY = 10


def read_documents(path: Path) -> list[tuple[str, str]]:
    """``(id, text)`` of every document; JSON lines need a ``text`` field (errors name the line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        documents = _documents(path)
    except UnicodeDecodeError:
        raise not_utf8(path) from None
    if not any(text.strip() for _, text in documents):
        raise DataError(f"{path}: no text")
    return documents


def _documents(path: Path) -> list[tuple[str, str]]:
    documents: list[tuple[str, str]] = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{number}: not valid JSON ({exc.msg}); a corpus is plain text or JSON lines") from None
                if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                    raise DataError(f"{path}:{number}: JSON line without a 'text' string field")
                documents.append((str(record.get("id", number)), record["text"]))
            else:
                documents.append((str(number), line))
    return documents


def word_blocks(offsets: list[tuple[int, int]], budget: int) -> list[tuple[int, int]]:
    """Token ranges ``[start, end)`` of at most ``budget`` tokens that end at word boundaries (a
    token starting where the previous one ended continues a word); a word longer than the
    budget is cut."""
    blocks, start, n = [], 0, len(offsets)
    while start < n:
        end = min(start + budget, n)
        if end < n:
            cut = end
            while cut > start and offsets[cut][0] == offsets[cut - 1][1]:  # back to the start of the cut word
                cut -= 1
            if cut > start:  # else one word is longer than the budget: cut inside it
                end = cut
        blocks.append((start, end))
        start = end
    return blocks


class TextCorpus(DataFormat):
    """Plain text or JSON lines with ``text``; rows are token blocks for masked-LM."""

    name = "MLM"
    columns = "plain text (a document per line) or JSON lines with a 'text' field"

    def read(self, path, task, task_type):
        return [Example(uid=uid, label=1, texts=[text]) for uid, text in read_documents(path) if text.strip()]

    def encode(self, examples: list[Example], tokenizer: Any, max_len: int, task: Any) -> list[dict]:
        if tokenizer.mask_token_id is None:
            raise DataError(f"task '{task.name}': the encoder's tokenizer has no mask token; masked-LM needs one")
        budget = max_len - tokenizer.num_special_tokens_to_add(pair=False)
        texts, uids = [], []
        for example, spans in zip(examples, _offsets(tokenizer, [e.texts[0] for e in examples])):
            for k, (start, end) in enumerate(word_blocks(spans, budget)):
                texts.append(example.texts[0][spans[start][0] : spans[end - 1][1]])
                uids.append(f"{example.uid}.{k}")
        if not texts:
            return []
        enc = tokenizer(texts, truncation=True, max_length=max_len, return_offsets_mapping=True,
                        return_special_tokens_mask=True, return_token_type_ids=True)
        mask_id, size = int(tokenizer.mask_token_id), len(tokenizer)
        rows = []
        for i, uid in enumerate(uids):
            special = enc["special_tokens_mask"][i]
            rows.append({
                "uid": uid, "label": 1, "input_ids": enc["input_ids"][i], "token_type_ids": enc["token_type_ids"][i],
                "segment_ids": [-1 if s else 0 for s in special],
                "offsets": [[0, 0] if s else list(o) for o, s in zip(enc["offset_mapping"][i], special)],
                "mask_id": mask_id, "vocab_size": size,
            })
        return rows


def _offsets(tokenizer: Any, texts: list[str]) -> list[list[tuple[int, int]]]:
    """Character spans of every token of whole documents (no special tokens, no truncation)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    truncation = backend.truncation
    backend.no_truncation()  # documents are longer than the model: they are cut into blocks here
    try:
        return [e.offsets for e in backend.encode_batch(texts, add_special_tokens=False)]
    finally:
        if truncation:
            backend.enable_truncation(**truncation)


def corpus_file(data_dir: Path, name: str, split: str) -> Path | None:
    for suffix in CORPUS_SUFFIXES:
        path = Path(data_dir) / f"{name}_{split}{suffix}"
        if path.is_file():
            return path
    return None


def hold_out(source: Path, target_dir: Path, name: str, every: int = HELD_OUT_EVERY) -> dict[str, Path]:
    """Split ``source`` by paragraphs: every ``every``-th paragraph (counted over the whole
    corpus) goes to dev, the rest to train; both as JSON lines, rewritten only when the source
    changed."""
    digest = file_sha256(source)[:12]
    folder = Path(target_dir) / f"{name}-{digest}"
    train, dev = folder / f"{name}_train.jsonl", folder / f"{name}_dev.jsonl"
    if train.is_file() and dev.is_file():
        return {"train": train, "dev": dev}
    kept: list[str] = []
    held: list[str] = []
    count = 0
    for uid, text in read_documents(source):
        parts: dict[str, list[str]] = {"train": [], "dev": []}
        for paragraph in (p for p in text.split("\n") if p.strip()):
            count += 1
            parts["dev" if count % every == 0 else "train"].append(paragraph)
        if parts["train"]:
            kept.append(json.dumps({"id": uid, "text": "\n".join(parts["train"])}))
        if parts["dev"]:
            held.append(json.dumps({"id": uid, "text": "\n".join(parts["dev"])}))
    if not kept or not held:
        raise DataError(f"{source}: too little text to hold out every {every}th paragraph; add {name}_dev with held-out text")
    atomic_write_text(train, "\n".join(kept) + "\n")
    atomic_write_text(dev, "\n".join(held) + "\n")
    return {"train": train, "dev": dev}


def locate_corpus(name: str):
    """A task's ``locate``: ``NAME_{train,dev,test}`` with any corpus suffix in the data directory;
    without a dev file, a held-out share of the training corpus."""

    def locate(data_dir: Path, work_dir: Path) -> dict[str, Path]:
        found = {split: path for split in ("train", "dev", "test") if (path := corpus_file(data_dir, name, split))}
        if "train" in found and "dev" not in found:
            found.update(hold_out(found["train"], Path(work_dir) / "corpus", name))
        return found

    return locate
