"""The ``tensorboard`` reporter: scalars under ``OUTPUT_DIR/tensorboard`` for ``tensorboard
--logdir OUTPUT_DIR``.

* every update: ``train/loss`` (the update's, over its batches and every rank's rows),
  ``train/lr``, ``train/grad_norm``;
* every log record: ``train_loss/<task>`` (each task's mean loss since the previous record; an
  update's batches may be of several tasks), the regularizers' terms and skipped batches
  (``train/reg_*``, ...);
* every evaluation: ``<dataset>/<metric>`` (``rte_dev/accuracy``).

A resumed run hides the events the interrupted one wrote after the resumed step (TensorBoard's
``purge_step``), so curves never double back; a new run in the same directory hides all old ones.
"""
from __future__ import annotations

from numbers import Real

from mtdnn_core.errors import MtdnnError
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.observers import LogRecord, RunStart, StepState

LOG_DIR = "tensorboard"


def _number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


class TensorBoardReporter:
    def __init__(self, run):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise MtdnnError("report_to tensorboard needs the tensorboard package: pip install 'mtdnn-core[tensorboard]'") from None
        self._writer_class = SummaryWriter
        self.log_dir = run.output_dir / LOG_DIR
        self.writer = None

    @hookimpl
    def on_train_begin(self, run: RunStart) -> None:
        self.writer = self._writer_class(log_dir=str(self.log_dir), purge_step=run.step + 1 if run.step else 0)

    @hookimpl
    def on_step_end(self, state: StepState) -> None:
        step = state.step
        self.writer.add_scalar("train/loss", state.loss, step)
        self.writer.add_scalar("train/lr", state.lr, step)
        if state.grad_norm is not None:
            self.writer.add_scalar("train/grad_norm", state.grad_norm, step)

    @hookimpl
    def on_log(self, record: LogRecord) -> None:
        if record.event != "train" or self.writer is None:  # a resume record comes before on_train_begin
            return
        for key, value in record.data.items():
            if (key.startswith("reg_") or key == "nonfinite_skipped") and _number(value):
                self.writer.add_scalar(f"train/{key}", value, record.step)
        for task, value in (record.data.get("task_loss") or {}).items():
            if _number(value):
                self.writer.add_scalar(f"train_loss/{task}", value, record.step)

    @hookimpl
    def on_evaluate(self, dataset: str, epoch: int, step: int, metrics: dict) -> None:
        for name, value in metrics.items():
            if _number(value):
                self.writer.add_scalar(f"{dataset}/{name}", value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
