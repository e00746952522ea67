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


def _usage(pipeline_tag: str | None, pair: bool, directory: str) -> list[str]:
    if pipeline_tag == "text-classification":
        call = ('clf({"text": "A premise.", "text_pair": "A hypothesis."}, truncation=True)' if pair
                else 'clf("Some text.", truncation=True)')
        return ["```python", "from transformers import pipeline", "",
                f'clf = pipeline("text-classification", model="{directory}")', call, "```"]
    if pipeline_tag == "token-classification":
        return ["```python", "from transformers import pipeline", "",
                f'tagger = pipeline("token-classification", model="{directory}", ignore_labels=[])',
                'tagger([["EU", "rejects", "German", "call"]], is_split_into_words=True)  # a batch of word lists',
                "```", "", "Labels were trained on the first sub-token of each word."]
    return ["The encoder loads with `transformers.AutoModel`; the head is mtdnn's own (`mtdnn_head.json`):",
            "", "```python", "from mtdnn_convert.head_files import load_head", "",
            f'encoder, head = load_head("{directory}")   # needs mtdnn and the plugin that provides the head',
            "```"]


def model_card(task: str, definition: Any, meta: dict, pipeline_tag: str | None, layout: str,
               max_len: int, directory: str = "OUT_DIR") -> str:
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
        f"- Inputs longer than {max_len} tokens are truncated (longest first), as in training; "
        f"the tokenizer's `model_max_length` is {max_len}.",
        "", "## Metrics", "", *_metrics_table(meta.get("last_metrics"), task),
        "", "## Use", "", *_usage(pipeline_tag, pair, directory),
        "", "## Training configuration", "",
        "To reproduce, save this block as `config.yml` and run `mtdnn train --config config.yml`:", "",
        "```yaml", yaml.safe_dump(config, sort_keys=False).strip(), "```",
        "", "Task definition:", "", "```json", json.dumps(definition.model_dump(), indent=2), "```",
        "", f"Versions: {', '.join(f'{k} {v}' for k, v in sorted(meta.get('versions', {}).items()))}.", "",
    ]
    return "\n".join(lines)
