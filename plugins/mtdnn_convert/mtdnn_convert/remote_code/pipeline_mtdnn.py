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
        if kwargs:  # stride, aggregation_strategy, ...: the windows and words are mtdnn's
            raise ValueError(f"this pipeline takes ignore_labels and is_split_into_words only, not "
                             f"{', '.join(sorted(kwargs))}: it windows long sentences and tags whole words as mtdnn does")
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


def mtdnn_best_spans(start_logits, end_logits, is_context, n_best, max_answer_length):
    """The `n_best` highest-scoring spans (start, end) of one window, best first: both ends
    context tokens, start <= end, at most `max_answer_length` tokens, score start + end logit."""
    length = len(start_logits)
    starts = np.arange(length)[:, None]
    ends = starts + np.arange(max_answer_length)[None, :]
    valid = (ends < length) & is_context[:, None]
    ends = np.minimum(ends, length - 1)
    valid &= is_context[ends]
    scores = np.where(valid, start_logits[:, None] + end_logits[ends], -np.inf)
    flat = scores.ravel()
    count = min(n_best, int(valid.sum()))
    if count == 0:
        return []
    top = np.argpartition(-flat, count - 1)[:count]
    top = top[np.argsort(-flat[top], kind="stable")]
    return [(int(i // max_answer_length), int(ends.ravel()[i])) for i in top]


class MtdnnQuestionAnsweringPipeline(ChunkPipeline):
    """`qa(question=..., context=...)` (or a dict, or a list of dicts) -> `{"answer", "start",
    "end", "score"}` as mtdnn predicts it: the question cut to `max_query_length` tokens, the
    context in windows sharing `doc_stride` tokens, each window's `n_best` spans of at most
    `max_answer_length` tokens scored by start + end logit, the best distinct text over all
    windows. `score` is its probability among those candidates (softmax of the scores). With
    "no answer" allowed, `null_odds` is the lowest CLS score minus the best span's, and the
    answer is "" (start = end = 0) when it exceeds `null_threshold`."""

    def _sanitize_parameters(self, **kwargs):
        if kwargs:  # top_k, doc_stride, max_answer_len, ...: the settings are the task's
            raise ValueError(f"this pipeline takes a question and a context only, not {', '.join(sorted(kwargs))}: "
                             f"windows and decoding follow the task's settings (config.json head_settings)")
        return {}, {}, {}

    def __call__(self, *args, **kwargs):
        if args:
            inputs = args[0]
        else:
            inputs = {"question": kwargs.pop("question"), "context": kwargs.pop("context")}
        if isinstance(inputs, dict):
            return super().__call__([inputs], **kwargs)[0]
        return super().__call__(list(inputs), **kwargs)

    def preprocess(self, inputs, **kwargs):
        import torch

        settings, max_len = self.model.config.head_settings, self.model.config.max_seq_len
        question, context = inputs["question"].lstrip(), inputs["context"]
        offsets = self.tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        if len(offsets) > settings["max_query_length"]:
            question = question[: offsets[settings["max_query_length"] - 1][1]]
        encoded = self.tokenizer(question, context, truncation="only_second", max_length=max_len,
                                 stride=settings["doc_stride"], return_overflowing_tokens=True,
                                 return_offsets_mapping=True, return_token_type_ids=True)
        n = len(encoded["input_ids"])
        for i in range(n):
            sequence = encoded.sequence_ids(i)
            input_ids = encoded["input_ids"][i]
            window = {
                "context": context,
                "starts": np.array([s if sid == 1 else -1 for (s, _), sid in zip(encoded["offset_mapping"][i], sequence)]),
                "ends": np.array([e if sid == 1 else -1 for (_, e), sid in zip(encoded["offset_mapping"][i], sequence)]),
                "cls": input_ids.index(self.tokenizer.cls_token_id) if self.tokenizer.cls_token_id in input_ids else 0,
            }
            model_inputs = {k: torch.tensor([encoded[k][i]]) for k in ("input_ids", "attention_mask", "token_type_ids")
                            if k in encoded}
            yield {**model_inputs, "mtdnn_window": window, "is_last": i == n - 1}

    def _forward(self, model_inputs):
        window = model_inputs.pop("mtdnn_window")
        is_last = model_inputs.pop("is_last")
        output = self.model(**model_inputs)
        return {"start_logits": output.start_logits, "end_logits": output.end_logits, "mtdnn_window": window,
                "is_last": is_last}

    def postprocess(self, all_outputs, **kwargs):
        settings = self.model.config.head_settings
        candidates, null, context = [], None, all_outputs[0]["mtdnn_window"]["context"]
        for output in all_outputs:
            window = output["mtdnn_window"]
            start = output["start_logits"][0].float().numpy()
            end = output["end_logits"][0].float().numpy()
            for s, e in mtdnn_best_spans(start, end, window["starts"] != -1, settings["n_best"],
                                         settings["max_answer_length"]):
                candidates.append((int(window["starts"][s]), int(window["ends"][e]), float(start[s]) + float(end[e])))
            cls_score = float(start[window["cls"]]) + float(end[window["cls"]])
            if null is None or cls_score < null:
                null = cls_score
        kept = {}
        for first, last, score in sorted(candidates, key=lambda c: -c[2]):
            text = context[first:last]
            if text not in kept:
                kept[text] = (first, last, score)
            if len(kept) == settings["n_best"]:
                break
        scores = [score for _, _, score in kept.values()]
        if settings["allows_no_answer"]:
            scores.append(null)
        probabilities = np.exp(np.asarray(scores, dtype=np.float64) - max(scores)) if scores else np.array([])
        probabilities = probabilities / probabilities.sum() if scores else probabilities
        if kept:
            text, (first, last, score) = next(iter(kept.items()))
            answer = {"answer": text, "start": first, "end": last, "score": float(probabilities[0])}
        else:
            answer = {"answer": "", "start": 0, "end": 0, "score": 0.0}
        if settings["allows_no_answer"]:
            odds = null - kept[answer["answer"]][2] if kept else 1e9
            answer["null_odds"] = odds
            if odds > settings["null_threshold"]:
                answer = {"answer": "", "start": 0, "end": 0, "score": float(probabilities[-1]), "null_odds": odds}
        return answer
