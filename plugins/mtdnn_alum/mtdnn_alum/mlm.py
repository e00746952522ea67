"""ALUM: continual masked-LM pre-training with an adversarial term (arXiv 2004.08994).

The corpus is plain text (one passage per line) or JSON lines with a ``text`` field. Text is
cut into blocks of whole words of at most ``max_len`` tokens; a deterministic held-out share
(every ``1/held_out``-th block) measures the masked-LM loss before and after training.
Masking: ``mask_prob`` of the tokens (or of the words, with whole-word masking) are chosen;
of those 80% become [MASK], 10% a random token, 10% stay. The adversarial term perturbs the
embedding output (or a chosen layer; :mod:`mtdnn_alum.adversary`, the same search as SMART's)
and adds ``alpha * symmetric KL`` between the clean and perturbed predictions at the masked
positions. Every ``log_every`` steps a line goes to ``alum_log.jsonl`` in the output directory:
the masked-LM loss, the weighted adversarial term and its unweighted pieces, averaged since the
previous line.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from mtdnn_core.errors import DataError
from mtdnn_alum.adversary import AdversarialPerturbation, PerturbationConfig
from mtdnn_alum.perturb import perturbed, target_module, width_at

IGNORE = -100


def read_corpus(path: str | Path) -> list[str]:
    """Passages of a plain-text or JSON-lines corpus (JSON lines need a ``text`` field)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    passages = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
                if "text" not in record:
                    raise DataError(f"{path}:{number}: JSON line without a 'text' field")
                passages.extend(p for p in record["text"].split("\n") if p.strip())
            else:
                passages.append(line)
    if not passages:
        raise DataError(f"{path}: no text")
    return passages


def make_blocks(passages: list[str], tokenizer: Any, max_len: int) -> list[list[str]]:
    """Blocks of whole words whose tokens fit in ``max_len`` (with special tokens)."""
    budget = max_len - tokenizer.num_special_tokens_to_add(pair=False)
    blocks, current, used = [], [], 0
    for passage in passages:
        words = passage.split()
        enc = tokenizer(words, is_split_into_words=True, add_special_tokens=False)
        counts = [0] * len(words)
        for w in enc.word_ids():
            if w is not None:
                counts[w] += 1
        for word, count in zip(words, counts):
            if count == 0:
                continue
            if used + count > budget and current:
                blocks.append(current)
                current, used = [], 0
            if count <= budget:
                current.append(word)
                used += count
        if current:
            blocks.append(current)
            current, used = [], 0
    return blocks


@dataclass
class MaskingConfig:
    mask_prob: float = 0.15
    whole_word: bool = False


def mask_tokens(input_ids: torch.Tensor, word_ids: torch.Tensor, special: torch.Tensor, tokenizer: Any,
                config: MaskingConfig, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (masked inputs, labels with -100 where nothing is predicted)."""
    if config.whole_word:
        n_words = int(word_ids.max()) + 1 if (word_ids >= 0).any() else 0
        chosen_words = torch.rand((input_ids.shape[0], max(n_words, 1)), generator=generator) < config.mask_prob
        chosen = torch.gather(chosen_words, 1, word_ids.clamp_min(0)) & (word_ids >= 0)
    else:
        chosen = (torch.rand(input_ids.shape, generator=generator) < config.mask_prob) & ~special
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, IGNORE))
    roll = torch.rand(input_ids.shape, generator=generator)
    masked = input_ids.clone()
    masked[chosen & (roll < 0.8)] = tokenizer.mask_token_id
    random_ids = torch.randint(tokenizer.vocab_size, input_ids.shape, generator=generator)
    swap = chosen & (roll >= 0.8) & (roll < 0.9)
    masked[swap] = random_ids[swap]
    return masked, labels


def encode_blocks(blocks: list[list[str]], tokenizer: Any, max_len: int) -> list[dict]:
    enc = tokenizer(blocks, is_split_into_words=True, truncation=True, max_length=max_len, return_special_tokens_mask=True)
    return [{"input_ids": enc["input_ids"][i], "special": enc["special_tokens_mask"][i],
             "word_ids": [-1 if w is None else w for w in enc.word_ids(i)]} for i in range(len(blocks))]


def collate_mlm(rows: list[dict], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(r["input_ids"]) for r in rows)

    def pad(key, value):
        return torch.tensor([r[key] + [value] * (width - len(r[key])) for r in rows])

    return {"input_ids": pad("input_ids", pad_id), "special": pad("special", 1).bool(), "word_ids": pad("word_ids", -1),
            "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows])}


def load_mlm_model(spec: str):
    """A masked-LM model for any encoder. Without a pretrained MLM head, the head is created
    with its decoder tied to the word embeddings."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from mtdnn_core.model.encoder import packaged_minilm_path

    path = packaged_minilm_path() if spec in ("all-minilm-l6-v2", "minilm") else spec
    model = AutoModelForMaskedLM.from_pretrained(path)
    if getattr(model.config, "tie_word_embeddings", True):
        model.tie_weights()
    return model, AutoTokenizer.from_pretrained(path)


def sym_kl_masked(adv_logits: torch.Tensor, clean_logits: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    a = F.log_softmax(adv_logits[positions].float(), -1)
    c = F.log_softmax(clean_logits[positions].float(), -1)
    return (F.kl_div(a, c.detach(), log_target=True, reduction="batchmean")
            + F.kl_div(c, a.detach(), log_target=True, reduction="batchmean"))


@torch.no_grad()
def heldout_loss(model, rows: list[dict], tokenizer, masking: MaskingConfig, batch_size: int, seed: int) -> float:
    """Mean masked-LM loss on held-out blocks with a fixed masking (same seed: comparable)."""
    was = model.training
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    total, count = 0.0, 0
    for start in range(0, len(rows), batch_size):
        batch = collate_mlm(rows[start : start + batch_size], tokenizer.pad_token_id)
        inputs, labels = mask_tokens(batch["input_ids"], batch["word_ids"], batch["special"], tokenizer, masking, generator)
        logits = model(input_ids=inputs, attention_mask=batch["attention_mask"]).logits
        n = int((labels != IGNORE).sum())
        if n:
            total += F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), labels.view(-1), ignore_index=IGNORE, reduction="sum").item()
            count += n
    model.train(was)
    return total / max(count, 1)


class RunningLog:
    """Sums of detached per-step values, written as means every ``every`` steps (one host sync
    per written line, none per step)."""

    def __init__(self, path: Path, every: int):
        self.path, self.every = path, max(1, every)
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, step: int, values: dict[str, torch.Tensor]) -> None:
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0) + value.detach().float()
        self.count += 1
        if step % self.every == 0:
            self.flush(step)

    def flush(self, step: int) -> None:
        if not self.count:
            return
        record = {"step": step, **{k: float(v) / self.count for k, v in self.sums.items()}}
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        self.sums, self.count = {}, 0


def adversarial_term(model, module, adversary: AdversarialPerturbation, inputs, attention_mask, logits, positions):
    """ALUM's term: symmetric KL at the masked positions between clean and perturbed predictions."""

    def forward(delta):
        with perturbed(module, delta):
            return model(input_ids=inputs, attention_mask=attention_mask).logits

    reference = logits.detach()
    shape = (*inputs.shape, width_at(model.base_model, adversary.config.where))
    delta = adversary.find(forward, lambda adv: sym_kl_masked(adv, reference, positions), shape, attention_mask.unsqueeze(-1))
    return sym_kl_masked(forward(delta), logits, positions)


def pretrain(encoder: str, corpus: str | Path, output: str | Path, *, steps: int = 100, batch_size: int = 16,
             max_len: int = 128, lr: float = 5e-5, mask_prob: float = 0.15, whole_word: bool = False,
             adv_alpha: float = 10.0, adv: PerturbationConfig | None = None, held_out: int = 10, seed: int = 1,
             log_every: int = 10, progress: bool = True) -> dict:
    """Continue MLM pre-training (with ALUM's adversarial term when ``adv_alpha`` > 0); write a
    Hugging Face model directory to ``output``; return before/after held-out losses."""
    from tqdm.auto import tqdm

    from mtdnn_core.io import atomic_write_json

    torch.manual_seed(seed)
    model, tokenizer = load_mlm_model(encoder)
    blocks = make_blocks(read_corpus(corpus), tokenizer, max_len)
    rows = encode_blocks(blocks, tokenizer, max_len)
    test = [r for i, r in enumerate(rows) if held_out and i % held_out == held_out - 1]
    train = [r for i, r in enumerate(rows) if not (held_out and i % held_out == held_out - 1)]
    if not train:
        raise DataError(f"{corpus}: too little text for training")
    masking = MaskingConfig(mask_prob, whole_word)
    before = heldout_loss(model, test, tokenizer, masking, batch_size, seed) if test else math.nan
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    generator = torch.Generator().manual_seed(seed)
    adversary = AdversarialPerturbation(adv or PerturbationConfig()) if adv_alpha > 0 else None
    module = target_module(model.base_model, adversary.config.where) if adversary else None
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "alum_log.jsonl").unlink(missing_ok=True)
    log = RunningLog(output / "alum_log.jsonl", log_every)
    order: list[int] = []
    model.train()
    last_loss, started = None, time.perf_counter()
    for step in tqdm(range(1, steps + 1), desc="alum", disable=not progress):
        if not order:
            order = torch.randperm(len(train), generator=generator).tolist()
        chosen, order = order[:batch_size], order[batch_size:]
        batch = collate_mlm([train[i] for i in chosen], tokenizer.pad_token_id)
        inputs, labels = mask_tokens(batch["input_ids"], batch["word_ids"], batch["special"], tokenizer, masking, generator)
        logits = model(input_ids=inputs, attention_mask=batch["attention_mask"]).logits
        mlm_loss = F.cross_entropy(logits.view(-1, logits.shape[-1]).float(), labels.view(-1), ignore_index=IGNORE)
        loss, values = mlm_loss, {"mlm_loss": mlm_loss}
        positions = labels != IGNORE
        if adversary is not None and positions.any():
            divergence = adversarial_term(model, module, adversary, inputs, batch["attention_mask"], logits, positions)
            loss = loss + adv_alpha * divergence
            values.update(adv_term=adv_alpha * divergence, adv_divergence=divergence, **adversary.last)
        if not torch.isfinite(loss):
            optimizer.zero_grad(set_to_none=True)
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log.add(step, {"loss": loss, **values})
        last_loss = loss.detach()
    log.flush(steps)
    after = heldout_loss(model, test, tokenizer, masking, batch_size, seed) if test else math.nan
    model.save_pretrained(output)
    tokenizer.save_pretrained(output)
    summary = {"encoder": encoder, "corpus": str(corpus), "steps": steps, "train_blocks": len(train),
               "heldout_blocks": len(test), "heldout_mlm_loss_before": before, "heldout_mlm_loss_after": after,
               "adv_alpha": adv_alpha, "adversary": adversary.config.model_dump() if adversary else None,
               "whole_word": whole_word, "final_train_loss": None if last_loss is None else float(last_loss),
               "seconds": round(time.perf_counter() - started, 1), "output": str(output)}
    atomic_write_json(output / "alum_summary.json", summary)
    return summary
