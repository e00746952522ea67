"""The README.md model card of an exported task: what it predicts, how it was trained, its
last metrics and how to load it."""
from __future__ import annotations

import json
from typing import Any

import yaml


def _metrics_table(last: dict | None, task: str) -> list[str]:
    metrics = (last or {}).get("metrics") or {}
    rows = [(dataset, name, value) for dataset, values in sorted(metrics.items())
            if dataset == task or dataset.startswith(f"{task}_")
            for name, value in (values or {}).items() if isinstance(value, (int, float))]
    if not rows:
        return ["No labelled evaluation of this task was recorded in the checkpoint."]
    when = f"evaluation '{last.get('tag', '?')}' at update {last.get('step', '?')}"
    return [f"From the checkpoint's last {when} (x100):", "", "| dataset | metric | value |", "|---|---|---|",
            *(f"| {d} | {n} | {v:.2f} |" for d, n, v in rows)]


def _usage(pipeline_tag: str | None, pair: bool, directory: str, custom_code: bool, max_len: int) -> list[str]:
    trust = ", trust_remote_code=True" if custom_code else ""
    if pipeline_tag == "text-classification":
        call = ('clf({"text": "A premise.", "text_pair": "A hypothesis."}, truncation=True)' if pair
                else 'clf("Some text.", truncation=True)')
        return ["```python", "from transformers import pipeline", "",
                f'clf = pipeline("text-classification", model="{directory}"{trust})', call, "```"]
    if pipeline_tag == "token-classification":
        lines = ["```python", "from transformers import pipeline", "",
                 f'tagger = pipeline("token-classification", model="{directory}", trust_remote_code=True)',
                 'tagger(["EU", "rejects", "German", "call"], is_split_into_words=True, ignore_labels=[])',
                 "```", "",
                 "The pipeline (`pipeline_mtdnn.py`, hence `trust_remote_code=True`) answers one entry per word: "
                 "`entity` (its tag, read at the word's first sub-token, where it was trained), `score`, `index` "
                 "(the word's number), `word`, `start`/`end`. Labels in `ignore_labels` (default `[\"O\"]`) are "
                 "left out. A plain string is split on whitespace.",
                 "",
                 f"Sentences longer than {max_len} sub-tokens are split into overlapping windows of whole words, each "
                 "word tagged by the window in which it sits farthest from an edge, as mtdnn predicts them."]
        if not custom_code:
            lines += ["", f"`AutoModelForTokenClassification` loads the model alone (no windowing: at most {max_len} "
                          "tokens at a time)."]
        return lines
    if pipeline_tag == "question-answering":
        return ["```python", "from transformers import pipeline", "",
                f'qa = pipeline("question-answering", model="{directory}", trust_remote_code=True)',
                'qa(question="Who?", context="Someone did it.")', "```"]
    return []


def _inputs(pipeline_tag: str | None, max_len: int) -> str:
    if pipeline_tag not in ("text-classification", "token-classification", "question-answering"):
        return f"- Inputs are encoded by the export's pipeline as in training, at most {max_len} tokens per sequence."
    if pipeline_tag == "question-answering":
        return (f"- A question and its context go into windows of {max_len} tokens, a long context into several "
                f"(see Use), as in training; the tokenizer's `model_max_length` is {max_len}.")
    if pipeline_tag == "token-classification":
        return (f"- Sentences longer than {max_len} sub-tokens are split into overlapping windows of whole words, as in "
                f"training; the tokenizer's `model_max_length` is {max_len}.")
    return (f"- Inputs longer than {max_len} tokens are truncated (longest first), as in training; "
            f"the tokenizer's `model_max_length` is {max_len}.")


def _custom_code(custom_code: bool) -> list[str]:
    if not custom_code:
        return []
    return ["", "The head has no transformers class: its code is in `modeling_mtdnn.py` (torch and transformers only) and "
            "loads with `trust_remote_code=True`; without it, loading fails (the `model_type` `mtdnn-export` is "
            "unknown to transformers) rather than building a random head."]


def model_card(task: str, definition: Any, meta: dict, pipeline_tag: str | None, layout: str,
               max_len: int, directory: str = "OUT_DIR", custom_code: bool = False, notes: tuple[str, ...] = ()) -> str:
    config = meta.get("config", {})
    front = {"library_name": "transformers", "tags": ["mtdnn", "multi-task"]}
    if pipeline_tag:
        front["pipeline_tag"] = pipeline_tag
    labels = definition.labels or []
    pair = definition.data_format in ("PremiseAndOneHypothesis", "PremiseAndMultiHypothesis")
    others = [t for t in config.get("tasks", []) if t != task]
    lines = [
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        f"# {task}: {definition.description or definition.task_type} (exported from mtdnn)", "",
        f"- Task `{task}`: {definition.task_type}, data format `{definition.data_format}`"
        + (f", labels {', '.join(f'`{x}`' for x in labels)}" if labels else f", {definition.n_class} output(s)") + ".",
        f"- Head `{definition.head}`: {layout}.",
        f"- Encoder: `{config.get('encoder', '?')}`, fine-tuned by mtdnn {meta.get('mtdnn_version', '')} for "
        f"{meta.get('step', '?')} update(s), {meta.get('epoch', '?')} epoch(s)"
        + (f", jointly with {', '.join(f'`{t}`' for t in others)}" if others else "") + ".",
        f"- Data: `{config.get('task_data_dirs', {}).get(task) or config.get('data_dir') or '?'}`"
        + (f", first {config['max_train_samples']} training rows" if config.get("max_train_samples") else "") + ".",
        _inputs(pipeline_tag, max_len),
        "", "## Metrics", "", *_metrics_table(meta.get("last_metrics"), task),
        "", "## Use", "", *_usage(pipeline_tag, pair, directory, custom_code, max_len),
        *_custom_code(custom_code), *(x for note in notes for x in ("", note)),
        "", "## Training configuration", "",
        "To reproduce, save this block as `config.yml` and run `mtdnn train --config config.yml`:", "",
        "```yaml", yaml.safe_dump(config, sort_keys=False).strip(), "```",
        "", "Task definition:", "", "```json", json.dumps(definition.model_dump(), indent=2), "```",
        "", f"Versions: {', '.join(f'{k} {v}' for k, v in sorted(meta.get('versions', {}).items()))}.", "",
    ]
    return "\n".join(lines)
