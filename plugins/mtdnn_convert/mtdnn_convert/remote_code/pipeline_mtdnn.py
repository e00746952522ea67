# Token classification as mtdnn predicts it: one tag per word, sentences longer than the trained
# length split into overlapping windows of whole words, each word taking its tag from the window
# in which it sits farthest from an edge. Needs only torch and transformers.
import inspect

import numpy as np
from transformers.pipelines.base import ChunkPipeline
from transformers.pipelines.token_classification import TokenClassificationPipeline

MTDNN_WINDOW_OVERLAP = 0.25


def mtdnn_word_windows(token_counts, budget, overlap=MTDNN_WINDOW_OVERLAP):
    """Windows (start, end) of whole words of at most `budget` sub-tokens; consecutive windows
    share about `overlap` of a window; a word longer than the budget gets a window of its own."""
    windows, start, n = [], 0, len(token_counts)
    while start < n:
        end, used = start, 0
        while end < n and (used + token_counts[end] <= budget or end == start):
            used += token_counts[end]
            end += 1
        windows.append((start, end))
        if end == n:
            break
        nxt, shared = end, 0
        while nxt - 1 > start and shared + token_counts[nxt - 1] <= overlap * budget:
            nxt -= 1
            shared += token_counts[nxt]
        start = nxt
    return windows


class MtdnnTokenClassificationPipeline(TokenClassificationPipeline):
    """`tagger(words, is_split_into_words=True)` -> one dict per word: `entity` (its tag),
    `score` (softmax of the logits at its first sub-token), `index` (word number), `word`,
    `start`/`end` (characters in the words joined by single spaces). A plain string is split on
    whitespace. Labels in `ignore_labels` (default `["O"]`) are left out."""

    def _sanitize_parameters(self, ignore_labels=None, is_split_into_words=False, **kwargs):
        postprocess = {} if ignore_labels is None else {"ignore_labels": ignore_labels}
        return {}, {}, postprocess

    def __call__(self, inputs, **kwargs):
        if kwargs.get("is_split_into_words"):
            if isinstance(inputs, list) and all(isinstance(word, str) for word in inputs):
                return ChunkPipeline.__call__(self, [inputs], **kwargs)[0]
            return ChunkPipeline.__call__(self, inputs, **kwargs)
        if isinstance(inputs, str):
            return ChunkPipeline.__call__(self, [inputs.split()], **kwargs)[0]
        return ChunkPipeline.__call__(self, [text.split() for text in inputs], **kwargs)

    def preprocess(self, words, **kwargs):
        import torch

        max_len = getattr(self.model.config, "max_seq_len", None) or self.tokenizer.model_max_length
        whole = self.tokenizer(words, is_split_into_words=True, truncation=False, verbose=False)
        word_ids = whole.word_ids(0)
        if len(word_ids) <= max_len:
            windows = [(0, len(words), whole)]
        else:
            counts = [0] * len(words)
            for w in word_ids:
                if w is not None:
                    counts[w] += 1
            budget = max_len - self.tokenizer.num_special_tokens_to_add(pair=False)
            windows = [(start, end, self.tokenizer(words[start:end], is_split_into_words=True, truncation=True,
                                                   max_length=max_len))
                       for start, end in mtdnn_word_windows(counts, budget)]
        for n, (start, end, encoding) in enumerate(windows):
            inputs = {k: torch.tensor([v]) for k, v in encoding.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
            inputs["word_ids"] = torch.tensor([[-1 if w is None else w for w in encoding.word_ids(0)]])
            inputs["mtdnn_window"] = {"words": words, "offset": start, "is_last": n == len(windows) - 1}
            inputs["is_last"] = n == len(windows) - 1
            yield inputs

    def _forward(self, model_inputs):
        window = model_inputs.pop("mtdnn_window")
        is_last = model_inputs.pop("is_last")
        word_ids = model_inputs["word_ids"]
        if "word_ids" not in inspect.signature(self.model.forward).parameters:
            model_inputs = {k: v for k, v in model_inputs.items() if k != "word_ids"}
        logits = self.model(**model_inputs)["logits"]
        return {"logits": logits, "word_ids": word_ids, "mtdnn_window": window, "is_last": is_last}

    def postprocess(self, all_outputs, ignore_labels=None, **kwargs):
        ignore_labels = ["O"] if ignore_labels is None else ignore_labels
        words = all_outputs[0]["mtdnn_window"]["words"]
        best = {}  # word -> (centrality, scores at its first sub-token)
        for output in all_outputs:
            logits = output["logits"][0].float().numpy()
            word_ids = [int(w) for w in output["word_ids"][0]]
            offset = output["mtdnn_window"]["offset"]
            firsts = [(pos, w) for pos, w in enumerate(word_ids) if w >= 0 and (pos == 0 or word_ids[pos - 1] != w)]
            if not firsts:
                continue
            span = firsts[-1][1]
            for pos, w in firsts:
                centrality = min(w, span - w)
                if offset + w not in best or centrality > best[offset + w][0]:
                    best[offset + w] = (centrality, logits[pos])
        starts, position = [], 0
        for word in words:
            starts.append(position)
            position += len(word) + 1
        entities = []
        for index, word in enumerate(words):
            if index not in best:  # a word the tokenizer dropped entirely: mtdnn predicts the first label
                label, score = self.model.config.id2label[0], float("nan")
            else:
                scores = np.exp(best[index][1] - best[index][1].max())
                scores = scores / scores.sum()
                label, score = self.model.config.id2label[int(scores.argmax())], float(scores.max())
            if label in ignore_labels:
                continue
            entities.append({"entity": label, "score": score, "index": index, "word": word,
                             "start": starts[index], "end": starts[index] + len(word)})
        return entities
