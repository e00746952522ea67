"""Multi-task batch schedules.

A sampler turns the training datasets into an epoch's schedule: a list of
``(dataset index, sample indices)``, one task per batch. Schedules depend only on
``(seed, epoch)``, so a resumed run replays exactly the batches an uninterrupted one sees.
"""
from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Schedule = list[tuple[int, list[int]]]


def make_batches(lengths, batch_size: int, rng: np.random.Generator, bucketing: bool,
                 max_tokens: int | None = None) -> list[list[int]]:
    """Cut one dataset into batches. With ``bucketing``, samples of similar length share a batch
    (less padding); with ``max_tokens``, each batch holds as many length-sorted samples as fit in
    that many padded tokens (so short inputs fill a batch). Batch order is shuffled either way;
    every index appears exactly once."""
    lengths = np.asarray(lengths)
    n = len(lengths)
    order = rng.permutation(n)
    if bucketing or max_tokens:
        # stable sort of a random permutation by length: random order within equal lengths
        order = order[np.argsort(lengths[order], kind="stable")]
    if max_tokens:
        batches, current, longest = [], [], 0
        for index in order.tolist():
            width = max(longest, int(lengths[index]))
            if current and width * (len(current) + 1) > max_tokens:
                batches.append(current)
                current, width = [], int(lengths[index])
            current.append(index)
            longest = width
        if current:
            batches.append(current)
    else:
        batches = [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
    if bucketing or max_tokens:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


class TaskSampler:
    """Base class. ``schedule(epoch)`` returns the epoch's batches in training order.

    Built as ``cls(lengths=..., batch_size=..., seed=..., bucketing=..., max_tokens=...,
    config=Config)``; ``lengths`` holds tokens per sample of each training dataset. The trainer
    sets :attr:`total_epochs` (the run's epochs) before the first schedule, for schedules that
    change over the run."""

    total_epochs: int | None = None

    def __init__(self, lengths: list, batch_size: int, seed: int = 0, bucketing: bool = False,
                 max_tokens: int | None = None):
        self.lengths = lengths
        self.batch_size = batch_size
        self.seed = seed
        self.bucketing = bucketing
        self.max_tokens = max_tokens

    def rng(self, epoch: int, stream: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, epoch, stream])

    def batches_of(self, task: int, rng: np.random.Generator) -> list[list[int]]:
        return make_batches(self.lengths[task], self.batch_size, rng, self.bucketing, self.max_tokens)

    def task_batches(self, epoch: int) -> list[list[list[int]]]:
        return [self.batches_of(i, self.rng(epoch, 1 + i)) for i in range(len(self.lengths))]

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

    def __init__(self, lengths, batch_size, seed=0, bucketing=False, max_tokens=None,
                 config: ProportionalConfig | None = None, **options):
        super().__init__(lengths, batch_size, seed, bucketing, max_tokens)
        config = config or ProportionalConfig(**options)
        self.ratio, self.mix_opt = config.ratio, config.mix_opt

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


def temperature_probabilities(sizes, temperature: float, cap: int | None = None) -> np.ndarray:
    """``p_i = n_i ** (1 / T) / sum_j n_j ** (1 / T)`` with sizes optionally capped at ``cap``
    (jiant's ``TemperatureMultiTaskSampler``)."""
    sizes = np.asarray(sizes, dtype=np.float64)
    if cap is not None:
        sizes = np.minimum(sizes, cap)
    weights = sizes ** (1.0 / temperature)
    return weights / weights.sum()


class TemperatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperature: float = Field(default=2.0, gt=0, description="1 = proportional to size; larger flattens towards uniform")
    steps: int | None = Field(default=None, ge=1, description="batches per epoch (default: all batches of all tasks)")


class TemperatureSampler(TaskSampler):
    """Each batch's task is drawn with probability proportional to ``size ** (1 / T)``; a task's
    batches are consumed in shuffled order and reshuffled when exhausted."""

    Config = TemperatureConfig

    def __init__(self, lengths, batch_size, seed=0, bucketing=False, max_tokens=None,
                 config: TemperatureConfig | None = None, **options):
        super().__init__(lengths, batch_size, seed, bucketing, max_tokens)
        config = config or TemperatureConfig(**options)
        self.temperature, self.steps = config.temperature, config.steps

    def probabilities(self, epoch: int = 0) -> np.ndarray:
        return temperature_probabilities([len(x) for x in self.lengths], self.temperature)

    def schedule(self, epoch: int) -> Schedule:
        rng = self.rng(epoch)
        per_task = self.task_batches(epoch)
        steps = self.steps or sum(len(b) for b in per_task)
        tasks = rng.choice(len(per_task), size=steps, p=self.probabilities(epoch))
        cursors = [0] * len(per_task)
        refills = [0] * len(per_task)
        out = []
        for t in tasks.tolist():
            if cursors[t] == len(per_task[t]):
                refills[t] += 1
                per_task[t] = self.batches_of(t, self.rng(epoch, 1000 * refills[t] + t + 1))
                cursors[t] = 0
            out.append((t, per_task[t][cursors[t]]))
            cursors[t] += 1
        return out


class AnnealedTemperatureConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: float = Field(default=5.0, gt=0, description="temperature of the first epoch")
    end: float = Field(default=1.0, gt=0, description="temperature of the last epoch (1 = proportional to size)")
    examples_cap: int | None = Field(default=None, ge=1, description="count at most this many samples per task")
    steps: int | None = Field(default=None, ge=1, description="batches per epoch (default: all batches of all tasks)")


class AnnealedTemperatureSampler(TemperatureSampler):
    """Temperature sampling whose temperature changes from ``start`` to ``end`` over the run's
    epochs. The exponent ``1 / T`` moves linearly: in epoch ``e`` of ``E``,
    ``alpha_e = 1/start + (1/end - 1/start) * e / (E - 1)`` and ``p_i ~ n_i ** alpha_e``. With
    ``start: 1, end: 5`` this is the annealed sampling of Stickland & Murray (2019, "BERT and
    PALs": alpha = 1 - 0.8 (e - 1) / (E - 1)); the default goes the other way, from nearly uniform
    (T = 5) to proportional, so small tasks are seen early and large ones dominate at the end.
    ``examples_cap`` caps each task's size as jiant's temperature sampler does."""

    Config = AnnealedTemperatureConfig

    def __init__(self, lengths, batch_size, seed=0, bucketing=False, max_tokens=None,
                 config: AnnealedTemperatureConfig | None = None, **options):
        config = config or AnnealedTemperatureConfig(**options)
        TaskSampler.__init__(self, lengths, batch_size, seed, bucketing, max_tokens)
        self.start, self.end, self.cap, self.steps = config.start, config.end, config.examples_cap, config.steps

    def exponent(self, epoch: int) -> float:
        """``1 / T`` of ``epoch``: ``1/start`` in the first epoch, ``1/end`` in the last."""
        epochs = self.total_epochs or 1
        progress = min(epoch, epochs - 1) / (epochs - 1) if epochs > 1 else 1.0
        return 1 / self.start + (1 / self.end - 1 / self.start) * progress

    def temperature_at(self, epoch: int) -> float:
        return 1 / self.exponent(epoch)

    def probabilities(self, epoch: int = 0) -> np.ndarray:
        return temperature_probabilities([len(x) for x in self.lengths], self.temperature_at(epoch), self.cap)
