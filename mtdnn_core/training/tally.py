"""Training-loop bookkeeping kept on the device, read by the host only when it is needed.

Reading a value of a GPU tensor on the host (``float(loss)``, ``bool(torch.isfinite(loss))``)
waits for every queued kernel; done per step it keeps the GPU idle between steps. The tally
keeps the running loss, the per-task losses and the non-finite counters as device tensors and
copies them to the host in one read when a log record, an evaluation, a checkpoint or the end
of the run needs them (:meth:`StepTally.settle`). Under torchrun the settle sums every rank's
tally first (one collective), so the numbers are the run's, not rank 0's share.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Settled:
    """What the host learns at a settle: means since the previous settle and the counters."""

    loss: float  # 0.0 when every loss since the previous settle was non-finite
    task_loss: dict[str, float]
    nonfinite: int  # non-finite events since the previous settle (losses and skipped updates)
    worst_in_row: int  # the longest run of consecutive non-finite events seen since then


class StepTally:
    """Device-side sums per task and non-finite counters (float64 tensors on ``device``)."""

    def __init__(self, device: torch.device, world: int = 1, reduce=None):
        """``reduce``: sums a tensor over ranks (torchrun); each rank's losses are then its
        weighted share times ``world``, and the mean over ranks is the batch's loss."""
        self.device = device
        self.world, self.reduce = world, reduce
        self._sums: dict[str, torch.Tensor] = {}  # task -> [sum of finite losses, their count]
        self._update = self._zeros(3)  # the current update's [finite losses, non-finite losses, sum of the finite]
        self.keep_update_loss = False  # keep each update's [loss sum, count] for observers (update_loss)
        self.update_loss: torch.Tensor | None = None
        self._counters = self._zeros(3)  # [non-finite events since the last settle, events in a row now, worst run]

    def _zeros(self, n: int) -> torch.Tensor:
        return torch.zeros(n, dtype=torch.float64, device=self.device)

    def add(self, task: str, loss: torch.Tensor, ok: torch.Tensor) -> None:
        """One micro-batch's loss and whether it (on every rank) is finite."""
        value = torch.where(ok, loss.detach().to(torch.float64), 0.0)
        ok = ok.to(torch.float64)
        self._sums.setdefault(task, self._zeros(2)).add_(torch.stack([value, ok]))
        self._update.add_(torch.stack([ok, 1.0 - ok, value]))

    def update_has_finite_loss(self) -> torch.Tensor:
        """True where at least one micro-batch of the current update had a finite loss."""
        return self._update[0] > 0

    def end_update(self, skipped: torch.Tensor | None = None) -> None:
        """Count the update's non-finite events: each non-finite loss, plus the update itself when
        its gradient was non-finite although its losses were not. A clean update ends a run."""
        events = self._update[1]
        if skipped is not None:
            events = events + (skipped & self.update_has_finite_loss()).to(torch.float64)
        peak = self._counters[1] + events
        self._counters[0] += events
        self._counters[2] = torch.maximum(self._counters[2], peak)
        self._counters[1] = torch.where(skipped, peak, 0.0) if skipped is not None else 0.0
        if self.keep_update_loss:  # [sum of the update's finite losses, their count], still on the device
            self.update_loss = self._update[[2, 0]]  # indexing with a list copies
        self._update.zero_()

    def settle(self, losses: bool = True) -> Settled:
        """One host read of everything since the previous settle; the device sums start again.
        ``losses=False`` reads the non-finite counters alone (for a checkpoint), leaving the
        loss sums to the next log record."""
        tasks = list(self._sums) if losses else []
        values = torch.cat([*(self._sums[t] for t in tasks), self._counters])
        if self.reduce is not None:  # every rank counts the same non-finite events: the mean keeps them
            values = self.reduce(values) / self.world
        values = values.tolist()
        task_loss, total, count = {}, 0.0, 0.0
        for i, task in enumerate(tasks):
            s, n = values[2 * i], values[2 * i + 1]
            if n:
                task_loss[task] = s / n
            total, count = total + s, count + n
        nonfinite, _, worst = (int(v) for v in values[-3:])
        self._counters[0] = 0.0
        self._counters[2] = self._counters[1]  # the next worst run starts from the current one
        if losses:
            self._sums = {}
        return Settled(total / count if count else 0.0, task_loss, nonfinite, worst)
