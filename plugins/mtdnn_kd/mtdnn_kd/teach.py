"""``mtdnn kd teach``: run every teacher over a task's training (and dev) data, average their
outputs into soft labels, and write them with a manifest and a report (see
:mod:`mtdnn_kd.soft_labels` for the files).

Everything that can be checked without running a model is checked first: the teacher runs, that
each covers its tasks, that a task's teachers share its labels, that all share one tokenizer, and
that the data files exist.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtdnn_core.api import (
    ConfigError,
    DataError,
    PluginHost,
    Selection,
    Task,
    TaskDataset,
    compute_metrics,
    encode_file,
    file_sha256,
    move_to,
)
from mtdnn_kd import __version__
from mtdnn_kd.agreement import agreement
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.kinds import SoftKind, kind_for
from mtdnn_kd.report import write_report
from mtdnn_kd.soft_labels import MANIFEST, Manifest, SplitRecord, TaskRecord, TeacherRecord, write_entries, write_manifest
from mtdnn_kd.teachers import Teacher, check_agreement, check_tokenizers, read_teachers


@dataclass
class TeachSettings:
    temperature: float = 1.0
    splits: list[str] | None = None  # default: every split of a task whose name has no "test"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    max_seq_len: int | None = None  # default: the teachers' own
    batch_size: int = 64
    device: str = "auto"
    num_threads: int | None = None


@dataclass
class TeacherRun:
    """One teacher's outputs on one dataset: targets by uid, and its decoder output (metrics)."""

    targets: dict[str, dict]
    output: dict


@dataclass
class Plan:
    """Everything checked before a model runs: teachers, task definitions, lengths, tokenizer, files."""

    teachers: list[Teacher]
    tasks: list[str]
    defs: dict[str, Any]
    kinds: dict[str, SoftKind]
    lengths: dict[str, int]
    tokenizer: Any
    fingerprint: str
    files: dict[str, dict[str, Path]]
    host: PluginHost


def plan(teacher_values: list[str], tasks: list[str], data_dir: str | None, task_data_dirs: dict[str, str],
         settings: TeachSettings, plugins: list[str], work_dir: Path) -> Plan:
    if settings.temperature <= 0:
        raise ConfigError([f"--temperature: must be positive, got {settings.temperature}"], "teach")
    teachers = read_teachers(teacher_values, tasks)
    host = PluginHost(list(dict.fromkeys([p for t in teachers for p in t.meta.get("plugins", [])] + list(plugins))))
    defs = check_agreement(teachers, tasks, host.registries.task_types)
    kinds = {task: kind_for(defs[task].task_type) for task in tasks}
    lengths = max_lengths(teachers, tasks, defs, settings.max_seq_len)
    tokenizer, fingerprint = check_tokenizers(teachers)
    files = find_files(tasks, defs, data_dir, task_data_dirs, settings.splits, host, work_dir)
    return Plan(teachers, tasks, defs, kinds, lengths, tokenizer, fingerprint, files, host)


def teach(teacher_values: list[str], tasks: list[str], data_dir: str | None, task_data_dirs: dict[str, str],
          out: str | Path, settings: TeachSettings, plugins: list[str] = (), overwrite: bool = False,
          log: Callable[[str], Any] = print) -> dict:
    """Write soft labels of ``tasks`` into ``out``; return the report."""
    import tempfile

    out = Path(out).resolve()
    if (out / MANIFEST).exists() and not overwrite:
        raise ConfigError([f"{out} already holds soft labels ({MANIFEST}); choose another --out or pass --overwrite"], "teach")
    checked = plan(teacher_values, tasks, data_dir, task_data_dirs, settings, list(plugins), out / "data")
    if settings.num_threads:
        torch.set_num_threads(settings.num_threads)
    with tempfile.TemporaryDirectory(prefix="mtdnn-kd-features-") as features:
        datasets = encode(checked, settings, Path(features))
        runs = run_teachers(checked, datasets, settings, log)
        return write_all(checked, datasets, runs, settings, out)


def encode(p: Plan, settings: TeachSettings, cache: Path) -> dict[str, dict[str, TaskDataset]]:
    """Every taught split of every task, tokenized once with the teachers' tokenizer."""
    registries = p.host.registries
    datasets: dict[str, dict[str, TaskDataset]] = {}
    for task in p.tasks:
        definition = p.defs[task]
        fmt = registries.data_formats.get(definition.data_format)
        task_type = registries.task_types.get(definition.task_type).factory
        datasets[task] = {}
        for split, path in p.files[task].items():
            limit = settings.max_train_samples if split == "train" else settings.max_eval_samples
            store = encode_file(path, definition, task_type, fmt.factory, p.tokenizer, p.lengths[task], cache,
                                selection=Selection(None, limit), format_origin=str(fmt.origin))
            datasets[task][split] = TaskDataset(f"{task}_{split}", definition, split, store, task_type, Path(path),
                                                info={"max_samples": limit})
    return datasets


def run_teachers(p: Plan, datasets: dict, settings: TeachSettings, log) -> dict[tuple[str, str], list[TeacherRun]]:
    """Each teacher (loaded one at a time) over the datasets of the tasks it teaches."""
    from mtdnn_core.api import load_for_inference, pick_device

    device = pick_device(settings.device)
    pad_id = p.tokenizer.pad_token_id if p.tokenizer.pad_token_id is not None else 0
    runs: dict[tuple[str, str], list[TeacherRun]] = {}
    for number, teacher in enumerate(p.teachers, 1):
        log(f"teacher {number}/{len(p.teachers)}: {teacher.run} ({', '.join(teacher.tasks)})")
        model, _, _, _ = load_for_inference(teacher.checkpoint, p.host)
        model.to(device)
        for task in teacher.tasks:
            for split, dataset in datasets[task].items():
                runs.setdefault((task, split), []).append(
                    run_teacher(model, dataset, p.kinds[task], settings.temperature, settings.batch_size, device, pad_id))
        del model
    return runs


def write_all(p: Plan, datasets: dict, runs: dict, settings: TeachSettings, out: Path) -> dict:
    """Soft-label files, the report, and the manifest (last: a directory with one is complete)."""
    registries = p.host.registries
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"temperature": settings.temperature, "tokenizer": p.fingerprint,
                              "teachers": [{"run": t.run, "seed": t.seed, "tasks": t.tasks} for t in p.teachers],
                              "tasks": {}}
    records = {}
    for task in p.tasks:
        definition = p.defs[task]
        teaching = [i for i, t in enumerate(p.teachers) if task in t.tasks]
        task_report = {
            "task_type": definition.task_type,
            "metric": registries.metrics.get(definition.metric_meta[0]).factory.name if definition.metric_meta else None,
            "teachers": [{"run": p.teachers[i].run, "seed": p.teachers[i].seed, "scores": {}} for i in teaching],
            "ensemble": {"scores": {}}, "agreement": {},
        }
        splits = {split: write_split(out, dataset, p.kinds[task], runs[(task, split)], task_report, registries)
                  for split, dataset in datasets[task].items()}
        records[task] = TaskRecord(task_type=definition.task_type, labels=definition.labels, n_class=definition.n_class,
                                   max_seq_len=p.lengths[task], teachers=teaching, splits=splits)
        report["tasks"][task] = task_report
    manifest = Manifest(
        temperature=settings.temperature, tokenizer=p.fingerprint,
        teachers=[TeacherRecord(run=t.run, checkpoint=str(t.checkpoint), step=int(t.meta.get("step", 0)), seed=t.seed,
                                encoder=t.encoder, tasks=t.tasks) for t in p.teachers],
        tasks=records, versions=versions(),
    )
    write_report(out, report)
    write_manifest(out, manifest)
    return report


def max_lengths(teachers: list[Teacher], tasks: list[str], defs: dict, given: int | None) -> dict[str, int]:
    """Each task's maximum length: ``given``, else the definition's, else the teachers' (which must agree)."""
    out, problems = {}, []
    for task in tasks:
        if given or defs[task].max_seq_len:
            out[task] = given or defs[task].max_seq_len
            continue
        seen = {t.max_seq_len for t in teachers if task in t.tasks}
        if len(seen) > 1:
            problems.append(f"task '{task}': its teachers were trained with max_seq_len {sorted(seen)}; choose one with --max-seq-len")
        out[task] = max(seen)
    if problems:
        raise ConfigError(problems, "teachers")
    return out


def find_files(tasks: list[str], defs: dict, data_dir: str | None, task_data_dirs: dict[str, str],
               splits: list[str] | None, host: PluginHost, work_dir: Path) -> dict[str, dict[str, Path]]:
    """Each task's split files, found as a training run finds them (a plugin's layout or the
    canonical ``{task}_{split}.tsv``); ``train`` is required."""
    problems, found = [], {}
    for task in tasks:
        where = task_data_dirs.get(task, data_dir)
        if where is None:
            problems.append(f"task '{task}': no --data-dir given")
            continue
        directory = Path(host.resolve_data_dir(where))
        if not directory.is_dir():
            problems.append(f"task '{task}': data directory {directory} does not exist")
            continue
        locate = host.registries.tasks.get(task).factory.locate if task in host.registries.tasks else None
        files = Task(defs[task], locate).find_data(directory, work_dir)
        wanted = splits or [s for s in files if "test" not in s]
        lacking = [s for s in wanted if s not in files]
        if lacking or "train" not in files:
            problems.append(f"task '{task}': no {', '.join(lacking or ['train'])} file in {directory} "
                            f"(found: {', '.join(files) or 'none'})")
            continue
        found[task] = {s: files[s] for s in dict.fromkeys(["train", *wanted])}
    if problems:
        raise DataError("\n".join(problems))
    return found


@torch.no_grad()
def run_teacher(model: torch.nn.Module, dataset: TaskDataset, kind: SoftKind, temperature: float, batch_size: int,
                device: torch.device, pad_id: int) -> TeacherRun:
    """One teacher over one dataset: its soft targets by uid and its decoded output."""
    task = dataset.task
    collector = kind.collector(temperature)
    decoder = dataset.task_type.decoder(task, model.heads[task.name])
    model.eval()
    for start in range(0, len(dataset), batch_size):
        rows = dataset.rows(range(start, min(start + batch_size, len(dataset))))
        batch = move_to(dataset.task_type.collate(rows, pad_id), device)
        outputs = model(task.name, batch)
        collector.add(rows, outputs)
        decoder.add(rows, batch, outputs)
    return TeacherRun(collector.targets, decoder.result())


def sample_records(dataset: TaskDataset, kind: SoftKind) -> dict[str, dict]:
    """uid -> the gold label and the fingerprint of the inputs, in the dataset's order."""
    records: dict[str, dict] = {}
    for start in range(0, len(dataset), 1000):
        for row in dataset.rows(range(start, min(start + 1000, len(dataset)))):
            uid = str(row["uid"])
            record = records.setdefault(uid, {})
            key, value = kind.input_record(row)
            if key == "windows":
                if any(w[0] == value[0] for w in record.get("windows", [])):
                    raise SoftLabelError(f"{dataset.source}: uid {uid} appears twice; soft labels are keyed by uid")
                record.setdefault("windows", []).append(value)
            elif key in record:
                raise SoftLabelError(f"{dataset.source}: uid {uid} appears twice; soft labels are keyed by uid")
            else:
                record[key] = value
            gold = kind.gold(row)
            if gold is not None:
                record["label"] = _plain(gold)
    return records


def write_split(out: Path, dataset: TaskDataset, kind: SoftKind, runs: list[TeacherRun], task_report: dict,
                registries: Any) -> SplitRecord:
    """Average the teachers on one dataset, write its soft-label file, score and compare them."""
    records = sample_records(dataset, kind)
    uids = list(records)
    averaged = {uid: kind.average([run.targets[uid] for run in runs]) for uid in uids}
    lines = [{"uid": uid, **kind.to_json(averaged[uid]), **records[uid]} for uid in uids]
    name = f"{dataset.task.name}.{dataset.split}.jsonl"
    write_entries(out / name, lines)
    split = dataset.split
    for teacher_report, run in zip(task_report["teachers"], runs):
        teacher_report["scores"][split] = compute_metrics(dataset, run.output, registries.metrics)
    ensemble = kind.ensemble_output(runs[0].output, averaged)
    task_report["ensemble"]["scores"][split] = compute_metrics(dataset, ensemble, registries.metrics)
    task_report["agreement"][split] = agreement(
        kind, [kind.predictions([run.targets[u] for u in uids]) for run in runs],
        kind.predictions([averaged[u] for u in uids]))
    return SplitRecord(file=name, source=str(dataset.source), sha256=file_sha256(dataset.source), rows=len(uids),
                       max_samples=dataset.info.get("max_samples"))


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def versions() -> dict[str, str]:
    import importlib.metadata as md

    found = {"mtdnn-kd": __version__}
    for package in ("mtdnn-core", "torch", "transformers"):
        try:
            found[package] = md.version(package)
        except md.PackageNotFoundError:  # pragma: no cover
            pass
    return found
