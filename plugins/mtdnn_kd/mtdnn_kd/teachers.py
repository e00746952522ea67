"""Which teacher teaches which task, checked before any model runs.

``--teacher RUN`` teaches every requested task (the run must have trained them all);
``--teacher TASK=RUN`` teaches one task (single-task teachers, one run per task and seed).
All teachers of a task must agree on its type and labels, and all teachers on the tokenizer:
soft labels are matched to the student's inputs by their token ids.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtdnn_core.api import ConfigError, MtdnnError, TaskDef, complete_task_def, read_meta, resolve_checkpoint


@dataclass
class Teacher:
    run: str
    checkpoint: Path
    meta: dict
    tasks: list[str] = field(default_factory=list)

    @property
    def seed(self) -> int | None:
        return self.meta.get("config", {}).get("seed")

    @property
    def encoder(self) -> str:
        return str(self.meta.get("config", {}).get("encoder", ""))

    @property
    def max_seq_len(self) -> int:
        return int(self.meta.get("config", {}).get("max_seq_len", 128))

    def task_def(self, task: str, task_types: Any) -> TaskDef:
        return complete_task_def(TaskDef(**self.meta["task_defs"][task]), task_types)


def parse_teacher(value: str) -> tuple[str | None, str]:
    """``RUN`` or ``TASK=RUN`` (a path that exists is always a run, even with '=' in it)."""
    name, sep, run = value.partition("=")
    if sep and name and "/" not in name and not Path(value).exists():
        return name, run
    return None, value


def read_teachers(values: list[str], tasks: list[str]) -> list[Teacher]:
    """The teachers of ``values`` (each run once, with the tasks it teaches); every problem at once."""
    problems: list[str] = []
    teachers: dict[Path, Teacher] = {}
    for value in values:
        task, run = parse_teacher(value)
        try:
            checkpoint = resolve_checkpoint(run).resolve()
        except MtdnnError as exc:
            problems.append(f"--teacher {value}: {exc}")
            continue
        teacher = teachers.get(checkpoint) or Teacher(run, checkpoint, read_meta(checkpoint))
        trained = list(teacher.meta.get("task_defs", {}))
        wanted = [task] if task else tasks
        if task and task not in tasks:
            problems.append(f"--teacher {value}: task '{task}' is not one of --tasks ({', '.join(tasks)})")
            continue
        lacking = [t for t in wanted if t not in trained]
        if lacking:
            hint = (f"; name the tasks it teaches, e.g. --teacher {[t for t in tasks if t in trained][0]}={run}"
                    if any(t in trained for t in tasks) else "")
            problems.append(f"--teacher {value}: the run was trained on {', '.join(trained)}, not on "
                            f"{', '.join(lacking)}{hint}")
            continue
        teacher.tasks.extend(t for t in wanted if t not in teacher.tasks)
        teachers[checkpoint] = teacher
    for task in tasks:
        if not any(task in t.tasks for t in teachers.values()):
            problems.append(f"task '{task}': no teacher (give --teacher RUN or --teacher {task}=RUN)")
    if problems:
        raise ConfigError(problems, "teachers")
    return list(teachers.values())


def check_agreement(teachers: list[Teacher], tasks: list[str], task_types: Any) -> dict[str, TaskDef]:
    """Each task's definition, refused when its teachers were trained on different types or labels."""
    problems, defs = [], {}
    for task in tasks:
        mine = [t for t in teachers if task in t.tasks]
        first = mine[0].task_def(task, task_types)
        defs[task] = first
        for other in mine[1:]:
            d = other.task_def(task, task_types)
            if (d.task_type, d.labels, d.n_class) != (first.task_type, first.labels, first.n_class):
                problems.append(
                    f"task '{task}': teacher {other.run} was trained as {d.task_type} with labels {d.labels} "
                    f"({d.n_class} outputs) but teacher {mine[0].run} as {first.task_type} with labels {first.labels} "
                    f"({first.n_class}); the soft labels of one task must average the same classes"
                )
    if problems:
        raise ConfigError(problems, "teachers")
    return defs


def check_tokenizers(teachers: list[Teacher]) -> tuple[Any, str]:
    """The teachers' common tokenizer and its fingerprint; refused when they differ."""
    from transformers import AutoTokenizer

    from mtdnn_kd.fingerprint import tokenizer_identity

    found = []
    for teacher in teachers:
        tokenizer = AutoTokenizer.from_pretrained(teacher.checkpoint / "encoder")
        found.append((teacher, tokenizer, tokenizer_identity(tokenizer)))
    different = [f"{t.run} ({fp})" for t, _, fp in found if fp != found[0][2]]
    if different:
        raise ConfigError([f"teachers use different tokenizers: {found[0][0].run} ({found[0][2]}) vs "
                           f"{', '.join(different)}; soft labels are matched to inputs by token ids, so one "
                           f"ensemble needs one tokenizer"], "teachers")
    return found[0][1], found[0][2]
