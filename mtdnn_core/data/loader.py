"""Training batches through a ``torch.utils.data.DataLoader`` whose sampler is the multi-task
schedule.

Each item the sampler yields is one batch of the schedule, ``(dataset index, sample indices)``;
the dataset reads those rows from the feature store and collates them with the task type, in
worker processes when ``num_workers > 0``. Collation draws no random numbers, and the loader gets
its own generator, so the main process's random state (dropout) is the same with or without
workers and a resumed run replays exactly the batches an uninterrupted one sees.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from mtdnn_core.data.features import TaskDataset


class ScheduledBatches(Dataset):
    """Map-style view: ``self[(dataset index, indices)]`` is that batch, collated."""

    def __init__(self, datasets: list[TaskDataset], pad_id: int):
        self.datasets = datasets
        self.pad_id = pad_id

    def __getitem__(self, item: tuple[int, list[int]]) -> tuple[int, dict]:
        dataset_index, indices = item
        return dataset_index, self.datasets[dataset_index].collate(indices, self.pad_id)


class ScheduleSampler(Sampler):
    """Yields an epoch's schedule from ``start`` on (the batches a resumed run has not seen)."""

    def __init__(self, schedule: list[tuple[int, list[int]]], start: int = 0):
        self.schedule, self.start = schedule, start

    def __iter__(self) -> Iterator[tuple[int, list[int]]]:
        return iter(self.schedule[self.start :])

    def __len__(self) -> int:
        return len(self.schedule) - self.start


def _as_is(item):
    return item


def batch_loader(datasets: list[TaskDataset], schedule, start: int, pad_id: int, num_workers: int = 0,
                 pin_memory: bool = False, seed: int = 0) -> DataLoader:
    """Batches of ``schedule[start:]`` in order, as ``(dataset index, batch)``."""
    return DataLoader(
        ScheduledBatches(datasets, pad_id), sampler=ScheduleSampler(schedule, start), batch_size=None,
        collate_fn=_as_is, num_workers=num_workers, pin_memory=pin_memory,
        generator=torch.Generator().manual_seed(seed), prefetch_factor=4 if num_workers else None,
    )
