"""Data-parallel training under ``torchrun`` (``torch.distributed``: NCCL on GPUs, Gloo on CPU).

Every rank builds the same schedule (same seed), so every rank trains the same task at each
step; each rank takes a disjoint shard of each batch (rows ``rank::world``), so
``--batch-size`` is the global batch, split across ranks, and the learning rate means what it
means on one process. Each term of a rank's loss (a mean over rows, tokens...) is weighted by
the rank's share of the units it averages over (:meth:`Distributed.weights`), and the gradients
are summed over ranks once per update, after every backward pass of the update
(:meth:`Distributed.reduce_gradients`): whatever passes the heads and regularizers ran and
whatever parameters they left unused, the update equals the one-process update on the whole
batch. Evaluation is sharded by batches and gathered in order on rank 0, which alone writes
logs, scores and checkpoints.

torchrun starts each rank in a session of its own, so killing torchrun (``kill -9``) does not
reach the ranks: :func:`watch_launcher` makes a rank end itself once its launcher is gone.
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
        self._masks: dict[Any, list[bool]] = {}  # an update's tasks -> which parameters get gradients
        # the buckets' flat buffers, kept from update to update (by dtype, device and the bucket's
        # place) as DDP keeps its buckets: a fresh one per update (up to 32 MiB, which glibc maps
        # and unmaps each time) made 2 CPU ranks 10-20% slower per update (benchmarks/ddp_cpu.py)
        self._flat: dict[tuple, torch.Tensor] = {}

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def start(self, device: torch.device) -> None:
        if self.enabled and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if "TORCHELASTIC_RUN_ID" in os.environ:  # started by torchrun, even as its only process
            watch_launcher()

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

    def weights(self, units: torch.Tensor, finite: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One collective for a micro-batch: each loss term's weight on this rank (``world`` times
        the rank's share of the units the term averages over, so that averaging the ranks' weighted
        terms gives the mean over every rank's units) and whether the loss is finite on every rank."""
        if not self.enabled:
            return torch.ones_like(units), finite
        values = torch.cat([units.to(torch.float64), (~finite).to(torch.float64).reshape(1)])
        dist.all_reduce(values)
        totals = values[:-1]
        shares = torch.where(totals > 0, units.to(torch.float64) / totals.clamp_min(1e-30), 0.0)
        return (shares * self.world).to(torch.float32), values[-1] == 0

    def reduce_gradients(self, parameters: list[torch.nn.Parameter], key: Any = None,
                         bucket_bytes: int = 32 * 2**20) -> None:
        """Average the gradients over ranks, once per update, in flat buckets. A parameter without
        a gradient on every rank keeps none (the optimizer leaves it alone, as in one process); one
        with a gradient on some ranks only counts zeros for the others. Which parameters have one
        is agreed (a host read) the first time an update of ``key`` (its tasks) is reduced, and
        remembered for the updates of the same tasks."""
        if not self.enabled:
            return
        trainable = [p for p in parameters if p.requires_grad]
        if not trainable:
            return
        mask = self._masks.get(key) if key is not None else None
        if mask is None:
            present = torch.tensor([p.grad is not None for p in trainable], dtype=torch.uint8, device=trainable[0].device)
            dist.all_reduce(present, op=dist.ReduceOp.MAX)
            mask = [bool(v) for v in present.tolist()]
            if key is not None:
                self._masks[key] = mask
        grads = []
        for p, anywhere in zip(trainable, mask):
            if not anywhere:
                if p.grad is not None:
                    raise MtdnnError(f"rank {self.rank}: a parameter has a gradient in an update of {key} although it had none "
                                     f"in the first update of those tasks; the ranks would no longer agree")
                continue
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            grads.append(p.grad)
        bucket: list[torch.Tensor] = []
        size = place = 0
        for grad in grads:
            if bucket and (size + grad.numel() * grad.element_size() > bucket_bytes or grad.dtype != bucket[0].dtype):
                self._reduce_bucket(bucket, place)
                bucket, size, place = [], 0, place + 1
            bucket.append(grad)
            size += grad.numel() * grad.element_size()
        if bucket:
            self._reduce_bucket(bucket, place)

    def _reduce_bucket(self, grads: list[torch.Tensor], place: int) -> None:
        numel = sum(g.numel() for g in grads)
        slot = (grads[0].dtype, grads[0].device, place)
        if slot not in self._flat or self._flat[slot].numel() < numel:  # updates of other tasks share it
            self._flat[slot] = torch.empty(numel, dtype=grads[0].dtype, device=grads[0].device)
        flat = torch.cat([g.reshape(-1) for g in grads], out=self._flat[slot][:numel])
        dist.all_reduce(flat)
        flat.div_(self.world)
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def sum(self, value: torch.Tensor) -> torch.Tensor:
        """``value`` summed over ranks (every rank passes one of the same shape)."""
        if not self.enabled:
            return value
        value = value.clone()
        dist.all_reduce(value)
        return value

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


_WATCHED: list[int] = []  # the launcher's pid, once a watch runs in this process


def watch_launcher(every_s: float = 2.0) -> None:
    """End this process when the launcher that started it (its parent, torchrun's agent) is
    gone: a rank orphaned by ``kill -9`` of torchrun would otherwise train on, unseen, while the
    user resumes the run. The ranks stop as if killed; the last checkpoint is whole (they are
    written atomically) and ``--resume`` continues from it."""
    import threading
    import time

    launcher = os.getppid()
    if _WATCHED or launcher == 1:
        return
    _WATCHED.append(launcher)

    def watch() -> None:
        while os.getppid() == launcher:
            time.sleep(every_s)
        os.write(2, f"mtdnn: rank {os.environ.get('RANK', '?')}: its launcher (pid {launcher}) is gone; this rank "
                    f"stops. Resume from the last checkpoint with the same torchrun command and --resume\n".encode())
        os._exit(1)

    threading.Thread(target=watch, name="mtdnn-launcher-watch", daemon=True).start()
