"""Training-loop bookkeeping kept on the device, read by the host only when it is needed.

Reading a value of a GPU tensor on the host (``float(loss)``, ``bool(torch.isfinite(loss))``)
waits for every queued kernel; done per step it keeps the GPU idle between steps. The tally
keeps the running loss, the per-task losses and the non-finite counters as device tensors and
copies them to the host in one read when a log record, an evaluation, a checkpoint or the end
of the run needs them (:meth:`StepTally.settle`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class Settled:
    """What the host learns at a settle: means since the previous settle and the counters."""

    loss: float  # 0.0 when every loss since the previous settle was non-finite
    task_loss: dict[str, float]
    nonfinite: int  # non-finite events since the previous settle (losses and skipped updates)
    worst_in_row: int  # the longest run of consecutive non-finite events seen since then


@dataclass
class StepTally:
    device: torch.device
    in_row: int = 0  # carried across settles (host copy of the device counter after a settle)
    _sums: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    _counters: torch.Tensor | None = None  # [nonfinite events, events in a row, worst in a row]
    _update_ok: torch.Tensor | None = None  # finite losses in the current update
    _update_bad: torch.Tensor | None = None  # non-finite losses in the current update

    def _zeros(self, n: int = ()) -> torch.Tensor:
        return torch.zeros(n, dtype=torch.float64, device=self.device)

    def add(self, task: str, loss: torch.Tensor, ok: torch.Tensor) -> None:
        """One micro-batch's loss (detached) and whether it (on every rank) is finite."""
        ok = ok.to(torch.float64)
        sums = self._sums.setdefault(task, [self._zeros(), self._zeros()])
        sums[0].add_(torch.where(ok.bool(), loss.detach().to(torch.float64), 0.0))
        sums[1].add_(ok)
        if self._update_ok is None:
            self._update_ok, self._update_bad = self._zeros(), self._zeros()
        self._update_ok.add_(ok)
        self._update_bad.add_(1.0 - ok)

    def update_has_finite_loss(self) -> torch.Tensor:
        """True where at least one micro-batch of the current update had a finite loss."""
        return self._update_ok > 0 if self._update_ok is not None else torch.zeros((), dtype=torch.bool, device=self.device)

    def end_update(self, skipped: torch.Tensor) -> None:
        """Count the update's non-finite events: each non-finite loss, plus the update itself when
        its gradient was non-finite although its losses were not. A clean update ends a run."""
        if self._counters is None:
            self._counters = self._zeros(3)
            self._counters[1] = self.in_row
        bad_losses = self._update_bad if self._update_bad is not None else self._zeros()
        has_ok = self._update_ok > 0 if self._update_ok is not None else torch.zeros((), dtype=torch.bool, device=self.device)
        events = bad_losses + (skipped & has_ok).to(torch.float64)
        peak = self._counters[1] + events
        self._counters[0].add_(events)
        self._counters[2] = torch.maximum(self._counters[2], peak)
        self._counters[1] = torch.where(skipped, peak, 0.0)
        self._update_ok = self._update_bad = None

    def settle(self, losses: bool = True) -> Settled:
        """One host read of everything since the previous settle; the device sums start again.
        ``losses=False`` reads the non-finite counters alone (for a checkpoint), leaving the
        loss sums to the next log record."""
        tasks = list(self._sums) if losses else []
        parts = [t for task in tasks for t in self._sums[task]]
        counters = self._counters if self._counters is not None else torch.tensor([0.0, self.in_row, 0.0], dtype=torch.float64)
        values = torch.stack([*parts, *counters.to(self.device)]).tolist() if parts or self._counters is not None else []
        task_loss, total, count = {}, 0.0, 0.0
        for i, task in enumerate(tasks):
            s, n = values[2 * i], values[2 * i + 1]
            if n:
                task_loss[task] = s / n
            total, count = total + s, count + n
        nonfinite, in_row, worst = (int(v) for v in values[len(parts):]) if values else (0, self.in_row, 0)
        self.in_row = in_row
        self._counters = None
        if losses:
            self._sums = {}
        return Settled(total / count if count else 0.0, task_loss, nonfinite, max(worst, in_row))
