"""Training batches through a ``torch.utils.data.DataLoader`` whose sampler is the multi-task
schedule.

Each item the sampler yields is one batch of the schedule, ``(dataset index, sample indices)``;
the dataset reads those rows from the feature store and collates them with the task type, in
worker processes when ``num_workers > 0``. Collation never touches the global random state: a
task type that draws random numbers while collating (masked-LM masking, ``seeded_collate``) gets
the seed ``(run seed, epoch, batch position)``. The loader has its own generator, so the main
process's random state (dropout) is the same with or without workers and a resumed run replays
exactly the batches (and masks) an uninterrupted one sees.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from mtdnn_core.data.features import TaskDataset


class ScheduledBatches(Dataset):
    """Map-style view: ``self[(position, dataset index, indices)]`` is that batch, collated."""

    def __init__(self, datasets: list[TaskDataset], pad_id: int, seed: int = 0, epoch: int = 0, shard=None):
        self.datasets = datasets
        self.pad_id = pad_id
        self.seed, self.epoch = seed, epoch
        self.shard = shard  # data-parallel runs: (indices) -> (this rank's indices, its loss weight)

    def __getitem__(self, item: tuple[int, int, list[int]]) -> tuple[int, dict]:
        position, dataset_index, indices = item
        dataset = self.datasets[dataset_index]
        weight = None
        if self.shard is not None:
            indices, weight = self.shard(indices)
        if getattr(dataset.task_type, "seeded_collate", False):
            batch = dataset.task_type.collate(dataset.rows(indices), self.pad_id, seed=(self.seed, self.epoch, position),
                                              task=dataset.task)
        else:
            batch = dataset.collate(indices, self.pad_id)
        if weight is not None:
            batch["rank_weight"] = weight
        return dataset_index, batch


class ScheduleSampler(Sampler):
    """Yields an epoch's schedule from ``start`` on (the batches a resumed run has not seen), each
    with its position in the epoch."""

    def __init__(self, schedule: list[tuple[int, list[int]]], start: int = 0):
        self.schedule, self.start = schedule, start

    def __iter__(self) -> Iterator[tuple[int, int, list[int]]]:
        return ((position, task, indices) for position, (task, indices) in enumerate(self.schedule[self.start :], self.start))

    def __len__(self) -> int:
        return len(self.schedule) - self.start


def _as_is(item):
    return item


def batch_loader(datasets: list[TaskDataset], schedule, start: int, pad_id: int, num_workers: int = 0,
                 pin_memory: bool = False, seed: int = 0, epoch: int = 0, shard=None) -> DataLoader:
    """Batches of ``schedule[start:]`` in order, as ``(dataset index, batch)``; with ``shard``
    (data-parallel runs) each batch holds this rank's rows and their loss weight."""
    return DataLoader(
        ScheduledBatches(datasets, pad_id, seed, epoch, shard), sampler=ScheduleSampler(schedule, start), batch_size=None,
        collate_fn=_as_is, num_workers=num_workers, pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed), prefetch_factor=4 if num_workers else None,
    )
