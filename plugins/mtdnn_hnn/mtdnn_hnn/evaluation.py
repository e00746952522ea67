"""Scoring HNN tasks with a trained checkpoint or an untrained encoder (zero-shot transfer).

A checkpoint trained on ``dprd`` has no head for ``wsc273``: the head of one of its
candidate-choice tasks (``head_from``, default the first) scores every requested task, as HNN
transfers its DPRD model to WSC273 and PDP60. With an encoder instead of a checkpoint a fresh
head is built: its LM scorer is the encoder's pretrained masked-LM head; its similarity scorer
is untrained. Score files and ``metrics.json`` are written as a training run writes them, so
``mtdnn glue submit`` finds the WNLI test predictions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from mtdnn_core.api import (
    ConfigError,
    DataError,
    MtdnnError,
    PluginHost,
    Selection,
    TaskDataset,
    TaskDef,
    TrainConfig,
    atomic_write_json,
    complete_task_def,
    compute_metrics,
    encode_file,
    predict,
    readable_predictions,
)

TASK_TYPE = "candidate_choice"


@dataclass
class EvalRequest:
    tasks: list[str]
    data_dir: Path
    output_dir: Path
    checkpoint: Path | None = None
    encoder: str | None = None
    head_from: str | None = None
    head_config: dict[str, Any] = field(default_factory=dict)
    splits: list[str] | None = None
    max_samples: int | None = None
    batch_size: int = 16
    max_seq_len: int | None = None
    device: str = "cpu"
    tag: str = "hnn"


def _definition(host: PluginHost, name: str, trained: dict[str, TaskDef]) -> TaskDef:
    if name in trained:
        return trained[name]
    definition = complete_task_def(host.registries.tasks.get(name).factory.definition, host.registries.task_types)
    if definition.task_type != TASK_TYPE:
        raise ConfigError([f"tasks: '{name}' is a {definition.task_type} task, not {TASK_TYPE}"], "mtdnn hnn evaluate")
    return definition


def load_model(request: EvalRequest, host: PluginHost):
    """``(model, tokenizer, definitions in the checkpoint, the head's task, step)``."""
    from mtdnn_core.api import build_encoder, build_model, load_for_inference

    if (request.checkpoint is None) == (request.encoder is None):
        raise ConfigError(["give exactly one of --checkpoint and --encoder"], "mtdnn hnn evaluate")
    if request.checkpoint is not None:
        model, tokenizer, defs, meta = load_for_inference(request.checkpoint, host)
        choice = [n for n, d in defs.items() if d.task_type == TASK_TYPE]
        source = request.head_from or (choice[0] if choice else None)
        if source not in choice:
            raise ConfigError([f"--head-from: the checkpoint's {TASK_TYPE} tasks are {', '.join(choice) or 'none'}"],
                              "mtdnn hnn evaluate")
        return model, tokenizer, defs, source, meta.get("step", 0)
    config = TrainConfig(tasks=request.tasks, encoder=request.encoder)
    encoder, tokenizer = build_encoder(config, host)
    source = request.tasks[0]
    definition = _definition(host, source, {})
    if request.head_config:
        definition = definition.model_copy(update={"head_config": {**definition.head_config, **request.head_config}})
    return build_model({source: definition}, encoder, host), tokenizer, {}, source, 0


def evaluate(request: EvalRequest, host: PluginHost, log=print) -> dict[str, dict]:
    """Score every non-training split of each task; return metrics per dataset."""
    registries = host.registries
    model, tokenizer, trained, source, step = load_model(request, host)
    device = torch.device(request.device)
    model.to(device)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    scores_dir = request.output_dir / "scores"
    results: dict[str, dict] = {}
    for name in request.tasks:
        definition = _definition(host, name, trained)
        if name not in model.heads:
            model.heads[name] = model.heads[source]
        files = registries.tasks.get(name).factory.find_data(request.data_dir, request.output_dir / "data")
        wanted = request.splits or [s for s in definition.split_names if s != "train"]
        chosen = {s: p for s, p in files.items() if s in wanted}
        if not chosen:
            raise DataError(f"task '{name}': none of the splits {', '.join(wanted)} found in {request.data_dir}")
        fmt = registries.data_formats.get(definition.data_format)
        task_type = registries.task_types.get(definition.task_type).factory
        for split, path in chosen.items():
            max_len = request.max_seq_len or definition.max_seq_len or 128
            store = encode_file(path, definition, task_type, fmt.factory, tokenizer, max_len,
                                request.output_dir / "cache", selection=Selection(limit=request.max_samples),
                                format_origin=str(fmt.origin))
            dataset = TaskDataset(f"{name}_{split}", definition, split, store, task_type, Path(path))
            output = predict(model, dataset, request.batch_size, device, pad_id)
            metrics = compute_metrics(dataset, output, registries.metrics)
            atomic_write_json(scores_dir / f"{dataset.name}.{request.tag}.json", {
                "dataset": dataset.name, "task": name, "head": source, "step": step, "metrics": metrics,
                "uids": output["uids"], "predictions": readable_predictions(dataset, output),
                "lm_predictions": output["lm_predictions"], "sim_predictions": output["sim_predictions"],
                "golds": output["golds"], "scores": output["scores"],
            })
            host.write_predictions(dataset, output, scores_dir / f"{dataset.name}.{request.tag}")
            results[dataset.name] = metrics
            log(summary_line(dataset.name, len(dataset), metrics))
    atomic_write_json(request.output_dir / "metrics.json",
                      [{"event": "eval", "tag": request.tag, "step": step, "epoch": 0, "metrics": results}])
    return results


def summary_line(name: str, rows: int, metrics: dict) -> str:
    """One row of the table ``mtdnn hnn evaluate`` prints (see :data:`HEADER`)."""
    if not metrics:
        return f"{name:<18} {rows:>5}  (no labels: predictions only)"
    keys = ("hybrid_accuracy", "lm_accuracy", "sim_accuracy", "majority_baseline")
    return f"{name:<18} {rows:>5}" + "".join(f"{metrics[k]:>10.2f}" if k in metrics else f"{'-':>10}" for k in keys)


HEADER = f"{'dataset':<18} {'rows':>5}" + "".join(f"{k:>10}" for k in ("hybrid", "lm", "sim", "majority"))


def require_known(host: PluginHost, tasks: list[str]) -> None:
    problems = []
    for name in tasks:
        try:
            host.registries.tasks.get(name)
        except KeyError as exc:
            problems.append(str(exc))
    if problems:
        raise MtdnnError("; ".join(problems))
