"""``mtdnn kd recipe``: N teachers per task (seeds) -> ensemble soft labels -> one multi-task
student, with a single-task baseline, in one command.

Stages, each reusing a finished run of the same settings in ``OUT`` (so an interrupted recipe
continues where it stopped):

1. ``teachers``: one single-task run per task and seed (``teachers/<task>-seed<S>``), scored by
   the teach step rather than during training;
2. ``teach``: their soft labels and report (``soft/``);
3. ``student``: one multi-task run on all tasks with the ``kd`` regularizer (``student/``, or
   ``student-<loss>`` with ``--kd-loss``);
4. ``hard``: optionally the same multi-task run on hard labels alone (``multitask/``), which
   separates what distillation adds from what multi-task training adds;
5. ``baseline``: a single-task run per task with the student's seed; when that seed is a
   teacher's, the teacher is that run (same settings, same seed) and is not trained twice.

Results: ``results.md`` / ``results.json`` (dev metrics of every system) and ``plots/<task>.png``.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtdnn_core.api import atomic_write_json

STAGES = ("teachers", "teach", "student", "hard", "baseline", "report")
PER_TASK = ("task_overrides", "task_data_dirs", "train_fraction")


@dataclass
class RecipeSettings:
    tasks: list[str]
    base: dict[str, Any]  # TrainConfig keys every run shares (encoder, data_dir, epochs, lr, ...)
    teacher_seeds: list[int] = field(default_factory=lambda: [1, 2, 3])
    student_seed: int = 1
    alpha: float = 0.5
    temperature: float = 1.0
    kd_loss: str | None = None
    baseline: bool = True
    hard_student: bool = False
    plugins: list[str] = field(default_factory=list)


class Recipe:
    def __init__(self, settings: RecipeSettings, out: str | Path, progress: bool = True,
                 log: Callable[[str], Any] = print):
        self.s = settings
        self.out = Path(out)
        self.progress = progress
        self.log = log
        self.plugins = list(dict.fromkeys([*settings.plugins, "kd"]))
        self.timings_path = self.out / "timings.json"
        self.timings = json.loads(self.timings_path.read_text()) if self.timings_path.is_file() else {}

    # -- runs ------------------------------------------------------------------------------
    def teacher_dir(self, task: str, seed: int) -> Path:
        return self.out / "teachers" / f"{task}-seed{seed}"

    def train(self, name: str, settings: dict, evaluate: bool = True, soft_dir: Path | None = None) -> dict:
        """Train one run (or reuse a finished one with the same config); its summary."""
        from mtdnn_core.api import PluginHost, Trainer, build_train_config

        # per-task settings reach only the runs of those tasks; the recipe owns OUT: a run of
        # other settings there is replaced, one of the same reused
        merged = {**self.s.base, **settings}
        for key in PER_TASK:
            if key in merged:
                merged[key] = {t: v for t, v in merged[key].items() if t in merged["tasks"]}
        config = build_train_config({**merged, "plugins": self.plugins, "output_dir": str(self.out / name), "overwrite": True,
                                     "eval_splits": ["dev"] if evaluate else []})  # dev sets only, or none
        done = finished(self.out / name, config.model_dump())
        if done is not None:
            self.log(f"{name}: reusing the finished run")
            return done
        self.log(f"{name}: training {', '.join(config.tasks)} (seed {config.seed})")
        trainer = Trainer(config, PluginHost(self.plugins), progress=self.progress)
        if soft_dir is not None:
            from mtdnn_kd.preflight import check_run
            from mtdnn_kd.soft_labels import SoftLabels

            check_run(trainer, SoftLabels(soft_dir), loss=self.s.kd_loss)
        started = time.perf_counter()
        summary = trainer.train()
        self.timings[name] = round(time.perf_counter() - started, 1)
        atomic_write_json(self.timings_path, self.timings)
        return summary

    def teachers(self, seeds: list[int] | None = None) -> None:
        for seed in seeds or self.s.teacher_seeds:
            for task in self.s.tasks:
                self.train(f"teachers/{task}-seed{seed}", {"tasks": [task], "seed": seed}, evaluate=False)

    def teach(self) -> dict:
        from mtdnn_kd.soft_labels import MANIFEST
        from mtdnn_kd.teach import TeachSettings, teach

        soft = self.out / "soft"
        values = [f"{task}={self.teacher_dir(task, seed)}" for seed in self.s.teacher_seeds for task in self.s.tasks]
        wanted = {"teachers": values, "temperature": self.s.temperature}
        stamp = soft / "recipe.json"
        if (soft / MANIFEST).is_file() and stamp.is_file() and json.loads(stamp.read_text()) == wanted:
            self.log("soft labels: reusing the finished ones")
            return json.loads((soft / "report.json").read_text())
        self.log(f"soft labels: {len(values)} teacher run(s) -> {soft}")
        base = self.s.base
        settings = TeachSettings(temperature=self.s.temperature, max_train_samples=base.get("max_train_samples"),
                                 max_eval_samples=base.get("max_eval_samples"), max_seq_len=base.get("max_seq_len"),
                                 batch_size=base.get("eval_batch_size", 64), device=base.get("device", "auto"),
                                 num_threads=base.get("num_threads"))
        started = time.perf_counter()
        report = teach(values, self.s.tasks, base.get("data_dir"), base.get("task_data_dirs", {}), soft, settings,
                       self.plugins, overwrite=True, log=self.log)
        self.timings["teach"] = round(time.perf_counter() - started, 1)
        atomic_write_json(self.timings_path, self.timings)
        atomic_write_json(stamp, wanted)
        return report

    def kd_params(self) -> dict:
        params = {"soft_labels": str(self.out / "soft"), "alpha": self.s.alpha}
        if self.s.kd_loss:
            params["loss"] = self.s.kd_loss
        return params

    def student_dir(self) -> str:
        """``student``, or ``student-<loss>`` with a distillation loss of its own, so students of
        several losses sit side by side (rerun ``--stages student,report`` with another --kd-loss)."""
        return f"student-{self.s.kd_loss}" if self.s.kd_loss else "student"

    def student(self) -> dict:
        regularizers = [*self.s.base.get("regularizers", []), {"name": "kd", "params": self.kd_params()}]
        return self.train(self.student_dir(), {"tasks": self.s.tasks, "seed": self.s.student_seed, "regularizers": regularizers},
                          soft_dir=self.out / "soft")

    def hard(self) -> dict:
        return self.train("multitask", {"tasks": self.s.tasks, "seed": self.s.student_seed})

    def baselines(self) -> dict[str, dict]:
        """Single-task dev scores with the student's seed (a teacher's when the seeds coincide)."""
        out = {}
        for task in self.s.tasks:
            if self.s.student_seed in self.s.teacher_seeds:
                out[task] = {"reused_teacher": str(self.teacher_dir(task, self.s.student_seed))}
            else:
                out[task] = {"summary": self.train(f"baseline/{task}", {"tasks": [task], "seed": self.s.student_seed})}
        return out

    # -- everything ------------------------------------------------------------------------
    def run(self, stages: tuple[str, ...] = STAGES) -> dict | None:
        unknown = [s for s in stages if s not in STAGES]
        if unknown:
            from mtdnn_core.api import ConfigError

            raise ConfigError([f"--stages: unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}"], "recipe")
        self.out.mkdir(parents=True, exist_ok=True)
        if "teachers" in stages:
            self.teachers()
        if "teach" in stages:
            self.teach()
        if "student" in stages:
            self.student()
        if "hard" in stages and self.s.hard_student:
            self.hard()
        if "baseline" in stages and self.s.baseline:
            self.baselines()
        if "report" not in stages:
            return None
        from mtdnn_kd.results import collect, write_results

        results = collect(self)
        write_results(results, self.out)
        return results


def finished(run_dir: Path, config: dict) -> dict | None:
    """The summary of a run that finished with exactly ``config``; None otherwise."""
    summary, saved = run_dir / "summary.json", run_dir / "config.json"
    if not (summary.is_file() and saved.is_file()):
        return None
    if json.loads(saved.read_text()) != json.loads(json.dumps(config)):
        return None
    return json.loads(summary.read_text())
