"""Multi-task batch schedules.

A sampler turns the training datasets into an epoch's schedule: a list of
``(dataset index, sample indices)``, one task per batch. Schedules depend only on
``(seed, epoch)``, so a resumed run replays exactly the batches an uninterrupted one sees.
"""
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Schedule = list[tuple[int, list[int]]]


def make_batches(lengths: list[int], batch_size: int, rng: np.random.Generator, bucketing: bool) -> list[list[int]]:
    """Cut one dataset into batches. With ``bucketing``, samples of similar length share a batch
    (less padding); batch order is shuffled either way. Every index appears exactly once."""
    n = len(lengths)
    order = rng.permutation(n)
    if bucketing:
        # stable sort of a random permutation by length: random order within equal lengths
        order = order[np.argsort(np.asarray(lengths)[order], kind="stable")]
    batches = [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    if bucketing:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class TaskSampler:
    """Base class. ``schedule(epoch)`` returns the epoch's batches in training order."""

    def __init__(self, lengths: list[list[int]], batch_size: int, seed: int = 0, bucketing: bool = False):
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        self.bucketing = bucketing

    def rng(self, epoch: int, stream: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch, stream])

    def task_batches(self, epoch: int) -> list[list[list[int]]]:
        return [make_batches(lens, self.batch_size, self.rng(epoch, 1 + i), self.bucketing) for i, lens in enumerate(self.lengths)]

    def schedule(self, epoch: int) -> Schedule:  # pragma: no cover
        raise NotImplementedError

    def steps_per_epoch(self) -> int:
        return len(self.schedule(0))


class ProportionalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ratio: float = Field(default=0.0, ge=0, description="if > 0: all batches of the first task plus ratio x as many auxiliary batches")
    mix_opt: int = Field(default=0, ge=0, le=1, description="1: auxiliary batches first, then the main task's")


class ProportionalSampler(TaskSampler):
    """The original schedule: all batches of all tasks, shuffled together each epoch, so tasks are
    seen in proportion to their size. ``ratio`` and ``mix_opt`` behave as in the original."""

    Config = ProportionalConfig

    def __init__(self, lengths, batch_size, seed=0, bucketing=False, ratio: float = 0.0, mix_opt: int = 0):
        super().__init__(lengths, batch_size, seed, bucketing)
        self.ratio, self.mix_opt = ratio, mix_opt

    def schedule(self, epoch: int) -> Schedule:
        batches = self.task_batches(epoch)
        rng = self.rng(epoch)
        main = [(0, b) for b in batches[0]]
        extra = [(t, b) for t in range(1, len(batches)) for b in batches[t]]
        if len(batches) > 1 and self.ratio > 0:
            picks = int(min(len(main) * self.ratio, len(extra)))
            chosen = sorted(rng.choice(len(extra), size=picks, replace=False).tolist())
            extra = [extra[i] for i in chosen]
        if self.mix_opt > 0:
            extra = [extra[i] for i in rng.permutation(len(extra))]
            return extra + main
        everything = main + extra
        return [everything[i] for i in rng.permutation(len(everything))]


class TemperatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(default=2.0, gt=0, description="1 = proportional to size; larger flattens towards uniform")
    steps: int | None = Field(default=None, ge=1, description="batches per epoch (default: all batches of all tasks)")


class TemperatureSampler(TaskSampler):
    """Each batch's task is drawn with probability proportional to ``size ** (1 / T)``; a task's
    batches are consumed in shuffled order and reshuffled when exhausted."""

    Config = TemperatureConfig

    def __init__(self, lengths, batch_size, seed=0, bucketing=False, temperature: float = 2.0, steps: int | None = None):
        super().__init__(lengths, batch_size, seed, bucketing)
        self.temperature, self.steps = temperature, steps

    def probabilities(self) -> np.ndarray:
        sizes = np.array([len(x) for x in self.lengths], dtype=np.float64)
        weights = sizes ** (1.0 / self.temperature)
        return weights / weights.sum()

    def schedule(self, epoch: int) -> Schedule:
        rng = self.rng(epoch)
        per_task = self.task_batches(epoch)
        steps = self.steps or sum(len(b) for b in per_task)
        tasks = rng.choice(len(per_task), size=steps, p=self.probabilities())
        cursors = [0] * len(per_task)
        refills = [0] * len(per_task)
        out = []
        for t in tasks.tolist():
            if cursors[t] == len(per_task[t]):
                refills[t] += 1
                per_task[t] = make_batches(self.lengths[t], self.batch_size, self.rng(epoch, 1000 * refills[t] + t + 1), self.bucketing)
                cursors[t] = 0
            out.append((t, per_task[t][cursors[t]]))
            cursors[t] += 1
        return out
