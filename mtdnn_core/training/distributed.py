"""Data-parallel training under ``torchrun`` (``torch.distributed``: NCCL on GPUs, Gloo on CPU).

Every rank builds the same schedule (same seed), so every rank trains the same task at each
step and no head is ever left out of a step; each rank takes a disjoint shard of each batch
(rows ``rank::world``), so ``--batch-size`` is the global batch, split across ranks, and the
learning rate means what it means on one process. Gradients are averaged across ranks, with
each rank's loss weighted by its share of the batch, so the update equals the one-process
update on the whole batch. Evaluation is sharded by batches and gathered in order on rank 0,
which alone writes logs, scores and checkpoints.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import torch
import torch.distributed as dist

from mtdnn_core.errors import MtdnnError


class Distributed:
    """This process's place in the run: one process (``world == 1``) or one of torchrun's."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.enabled = self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self, device: torch.device) -> None:
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def device(self, device: torch.device) -> torch.device:
        """Each rank on its own GPU (``LOCAL_RANK``); CPU ranks share the CPU."""
        if self.enabled and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def shard(self, indices: list[int]) -> tuple[list[int], float]:
        """This rank's rows of a batch and the weight of its loss (its share of the batch times the
        world size). A rank left without rows (a batch smaller than the world) repeats the
        first row with weight 0, so every rank still takes part in the step."""
        if not self.enabled:
            return list(indices), 1.0
        mine = list(indices[self.rank :: self.world])
        if not mine:
            return [indices[0]], 0.0
        return mine, len(mine) * self.world / len(indices)

    def gather(self, value: Any) -> list[Any]:
        if not self.enabled:
            return [value]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def all_true(self, flag: torch.Tensor) -> torch.Tensor:
        """A boolean that is true only where it is true on every rank (for skipping a batch together)."""
        if not self.enabled:
            return flag
        value = flag.to(torch.int32).reshape(1)
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return value[0].bool()

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def check_agree(self, **facts: Any) -> None:
        """Stop with a clear message when ranks disagree on the run's configuration or data."""
        if not self.enabled:
            return
        digest = {key: hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]
                  for key, value in facts.items()}
        everyone = self.gather(digest)
        differing = sorted({key for other in everyone for key in digest if other.get(key) != digest[key]})
        if differing:
            raise MtdnnError(f"the {self.world} ranks disagree on {', '.join(differing)} (rank {self.rank}); start every "
                             f"rank with the same command, files and plugins")

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()
