# The pipeline of an exported HNN model, needing only torch and transformers: a schema (sentence,
# pronoun, candidates) encoded as mtdnn encodes it (per candidate, a masked-LM sequence with the
# candidate in place of the pronoun and its tokens masked, and the pair sentence + candidate),
# scored by the model, the best candidate chosen by each scorer.
import torch
from transformers import Pipeline


def mtdnn_overlapping(enc, sequence, start, end):
    ids = enc.sequence_ids(0)
    return [i for i, (s, e) in enumerate(enc["offset_mapping"]) if ids[i] == sequence and e > s and s < end and e > start]


def mtdnn_fit_window(tokenizer, text, span, pair, max_len):
    """`text` cut to whole words around `span` until it (with `pair`) fits `max_len` tokens; the
    far side loses a word first."""
    def length(candidate_text):
        return len(tokenizer(candidate_text, pair)["input_ids"])

    if length(text) <= max_len:
        return text, span
    words, position = [], 0
    for word in text.split():
        position = text.index(word, position)
        words.append((position, position + len(word)))
        position += len(word)
    first = next(i for i, (s, e) in enumerate(words) if e > span[0])
    last = max(i for i, (s, e) in enumerate(words) if s < span[1])
    lo, hi = 0, len(words)
    while True:
        cut = text[words[lo][0] : words[hi - 1][1]]
        if length(cut) <= max_len:
            return cut, (span[0] - words[lo][0], span[1] - words[lo][0])
        left_room, right_room = first - lo, hi - 1 - last
        if left_room <= 0 and right_room <= 0:
            raise ValueError(f"the pronoun's clause does not fit in {max_len} tokens")
        if left_room >= right_room:
            lo += 1
        else:
            hi -= 1


def mtdnn_sequence(enc):
    return {"input_ids": list(enc["input_ids"]), "token_type_ids": list(enc["token_type_ids"])}


class MtdnnPronounPipeline(Pipeline):
    """`resolve({"sentence": ..., "pronoun": ..., "candidates": [...]})` (`pronoun_start`: the
    pronoun's character offset, default its first whole-word occurrence) -> `answer` (the
    hybrid scorer's candidate), `index`, `lm_index`, `sim_index` (the two scorers alone) and
    `scores` (`hybrid`, `lm`, `sim` per candidate)."""

    def _sanitize_parameters(self, **kwargs):
        if kwargs:
            raise ValueError(f"this pipeline takes schemas only, not {', '.join(sorted(kwargs))}")
        return {}, {}, {}

    def preprocess(self, schema):
        tokenizer, max_len = self.tokenizer, self.model.config.max_seq_len
        sentence, pronoun, candidates = schema["sentence"], schema["pronoun"], list(schema["candidates"])
        start = schema.get("pronoun_start")
        if start is None:
            start = next(i for i in range(len(sentence)) if sentence.startswith(pronoun, i)
                         and not (i > 0 and sentence[i - 1].isalnum())
                         and not (i + len(pronoun) < len(sentence) and sentence[i + len(pronoun)].isalnum()))
        end = start + len(pronoun)
        lm, sim, positions, targets, pronouns, spans = [], [], [], [], [], []
        for candidate in candidates:
            text = sentence[:start] + candidate + sentence[end:]
            text, (s, e) = mtdnn_fit_window(tokenizer, text, (start, start + len(candidate)), None, max_len)
            enc = tokenizer(text, None, return_offsets_mapping=True, return_token_type_ids=True)
            where = mtdnn_overlapping(enc, 0, s, e)
            sequence = mtdnn_sequence(enc)
            targets.append([sequence["input_ids"][i] for i in where])
            for i in where:
                sequence["input_ids"][i] = tokenizer.mask_token_id
            lm.append(sequence)
            positions.append(where)
            cut, (s, e) = mtdnn_fit_window(tokenizer, sentence, (start, end), candidate, max_len)
            enc = tokenizer(cut, candidate, return_offsets_mapping=True, return_token_type_ids=True)
            sim.append(mtdnn_sequence(enc))
            pronouns.append(mtdnn_overlapping(enc, 0, s, e))
            spans.append(mtdnn_overlapping(enc, 1, 0, len(candidate)))
        rows, k = lm + sim, len(candidates)
        width = max(len(r["input_ids"]) for r in rows)
        batch = {
            "input_ids": torch.tensor([r["input_ids"] + [tokenizer.pad_token_id] * (width - len(r["input_ids"])) for r in rows]),
            "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]),
            "token_type_ids": torch.tensor([r["token_type_ids"] + [0] * (width - len(r["token_type_ids"])) for r in rows]),
            "candidate_mask": torch.ones(1, k, dtype=torch.bool),
            "mask_rows": torch.tensor([c for c in range(k) for _ in positions[c]]),
            "mask_positions": torch.tensor([p for c in range(k) for p in positions[c]]),
            "mask_targets": torch.tensor([t for c in range(k) for t in targets[c]]),
            "mask_slots": torch.tensor([c for c in range(k) for _ in positions[c]]),
            "sim_rows": torch.arange(k, 2 * k),
            "pronoun_mask": torch.zeros(k, width, dtype=torch.bool),
            "span_mask": torch.zeros(k, width, dtype=torch.bool),
        }
        for c in range(k):
            batch["pronoun_mask"][c, pronouns[c]] = True
            batch["span_mask"][c, spans[c]] = True
        return {"batch": batch, "candidates": candidates}

    def _forward(self, inputs):
        return {"outputs": self.model(**inputs["batch"]), "candidates": inputs["candidates"]}

    def postprocess(self, result):
        outputs, candidates = result["outputs"], result["candidates"]
        hybrid, lm, sim = (outputs[k][0].float() for k in ("logits", "lm", "sim_prob"))
        index = int(hybrid.argmax())
        return {"answer": candidates[index], "index": index, "lm_index": int(lm.argmax()), "sim_index": int(sim.argmax()),
                "scores": {"hybrid": hybrid.tolist(), "lm": lm.tolist(), "sim": sim.tolist()}}
