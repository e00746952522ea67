"""Checks of a training run against its soft labels before the first step: the same data files
(by SHA-256), the same task labels, the same tokenizer, a soft label for every training sample
and, sample by sample, the same token ids. ``mtdnn kd train`` and ``mtdnn kd recipe`` run them;
through plain ``mtdnn train`` the regularizer makes the per-sample checks batch by batch."""
from __future__ import annotations

from typing import Any

from mtdnn_core.api import file_sha256
from mtdnn_kd.errors import SoftLabelError
from mtdnn_kd.fingerprint import tokenizer_identity
from mtdnn_kd.kinds import kind_for
from mtdnn_kd.objectives import KD_LOSS, resolve_objective
from mtdnn_kd.soft_labels import MANIFEST, SoftLabels, task_problems


def check_run(trainer: Any, soft: SoftLabels, check_inputs: bool = True, allow_missing: bool = False,
              loss: str | None = None) -> dict[str, dict]:
    """Every problem at once as a :class:`SoftLabelError`; else, per training set, its rows and
    how many have soft labels (tasks absent from the soft labels train on their labels alone)."""
    manifest, where = soft.manifest, str(soft.directory / MANIFEST)
    problems: list[str] = []
    summary: dict[str, dict] = {}
    if check_inputs and manifest.tokenizer != tokenizer_identity(trainer.tokenizer):
        problems.append(f"{where}: the soft labels were made with tokenizer {manifest.tokenizer}, this run's encoder "
                        f"'{trainer.config.encoder}' has {tokenizer_identity(trainer.tokenizer)}; teach with teachers "
                        f"of the student's tokenizer, or set check_inputs: false (not for sequence labeling)")
    for dataset in trainer.data.train:
        task = dataset.task
        record = manifest.tasks.get(task.name)
        if record is None:
            summary[dataset.name] = {"rows": len(dataset), "soft": 0}
            continue
        mismatch = task_problems(record, task, where)
        problems.extend(mismatch)
        split = record.splits.get("train")
        if mismatch or split is None:
            if split is None:
                problems.append(f"{where}: task '{task.name}' has no training soft labels")
            continue
        digest = file_sha256(dataset.source)
        if digest != split.sha256:
            problems.append(f"{where}: task '{task.name}': the soft labels were made from {split.source} "
                            f"(sha256 {split.sha256[:12]}), this run reads {dataset.source} (sha256 {digest[:12]}): "
                            f"another version of the data; teach again on this data")
            continue
        entries = soft.entries(task.name, "train")
        kind = kind_for(task.task_type)
        try:
            objective = resolve_objective((loss if kind.discrete else None) or KD_LOSS.value(task), trainer.registries,
                                          task.name, kind.discrete)
        except (SoftLabelError, KeyError) as exc:
            problems.append(str(exc))
            continue
        if objective == "mse" and kind.discrete and any(e.get("logits") is None for e in entries.values()):
            problems.append(f"task '{task.name}': kd_loss mse matches logits, but {split.file} has entries without "
                            f"'logits'; use kd_loss kl or ce")
        uids = [str(u) for u in dict.fromkeys(dataset.store.column("uid"))]
        absent = [u for u in uids if u not in entries]
        if absent and not allow_missing:
            problems.append(f"task '{task.name}': {len(absent)} of {len(uids)} training samples have no soft label "
                            f"(uids {', '.join(absent[:5])}{' ...' if len(absent) > 5 else ''}); the teachers saw "
                            f"{split.rows} (max_samples {split.max_samples}); teach the same rows, or allow_missing")
        if check_inputs and not problems:
            differing = _differing_inputs(dataset, kind, entries)
            if differing:
                problems.append(f"task '{task.name}': {len(differing)} training sample(s) have other token ids than "
                                f"the teachers saw (uids {', '.join(differing[:5])}); teach with the student's "
                                f"--max-seq-len ({record.max_seq_len} was used)")
        summary[dataset.name] = {"rows": len(uids), "soft": len(uids) - len(absent)}
    if problems:
        raise SoftLabelError("\n".join(problems))
    return summary


def _differing_inputs(dataset: Any, kind: Any, entries: dict[str, dict]) -> list[str]:
    differing = []
    for start in range(0, len(dataset), 1000):
        for row in dataset.rows(range(start, min(start + 1000, len(dataset)))):
            entry = entries.get(str(row["uid"]))
            if entry is None:
                continue
            key, value = kind.input_record(row)
            known = entry.get(key)
            if key == "windows":
                matches = known is not None and any(list(w) == value for w in known)
            else:
                matches = known == value
            if not matches:
                differing.append(str(row["uid"]))
    return list(dict.fromkeys(differing))  # a long sentence's windows share its uid
