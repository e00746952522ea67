"""The multi-task training loop.

One step, start to end: the sampler's schedule picks (task, sample indices) -> a DataLoader reads
those rows from the feature store and the task type collates them -> ``MultiTaskModel(task,
batch)`` runs encoder and head -> the task type applies the task's loss (+ regularizer terms) ->
backward -> (every ``grad_accumulation`` batches) clip, optimizer and scheduler step (and the
weight average, with ``ema_decay``). Each epoch (and every ``eval_every`` updates) every dev/test
set is scored and a checkpoint written; with ``metric_for_best`` the best evaluation's checkpoint
is kept (``best.json``) and ``early_stopping`` ends the run when evaluations stop improving. The
run's numbers go to its reporters (``report_to``: ``log.jsonl``, TensorBoard, plugins') and one
line per evaluation to the ``mtdnn.train`` logger.
"""
from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtdnn_core import __version__
from mtdnn_core.config import TrainConfig
from mtdnn_core.data.batching import move_to
from mtdnn_core.data.loader import batch_loader
from mtdnn_core.errors import MtdnnError, ObserverError, TrainingDiverged
from mtdnn_core.io import atomic_write_json
from mtdnn_core.optim import param_groups
from mtdnn_core.plugins import PluginHost
from mtdnn_core.regularizers import RegularizerContext
from mtdnn_core.reporting import RunInfo, attached, build_reporters
from mtdnn_core.reporting.console import EvaluationLine
from mtdnn_core.training import checkpoint as ckpt
from mtdnn_core.training import run_dir
from mtdnn_core.training.distributed import Distributed
from mtdnn_core.training.ema import EMA_FILE, WeightAverage
from mtdnn_core.training.evaluate import compute_metrics, predict, readable_predictions
from mtdnn_core.training.plan import RunPlan, plan_run
from mtdnn_core.training.resolved import resolve_task
from mtdnn_core.training.selection import write_best
from mtdnn_core.training.sharding import local as sharding_local
from mtdnn_core.training.tally import StepTally
from mtdnn_core.training.setup import (
    build_encoder,
    check_lengths,
    build_model,
    load_datasets,
    plugin_versions,
)

LOGGER = logging.getLogger("mtdnn.train")

DIVERGED_ADVICE = (
    "try a lower --lr, more --warmup, --grad-clip 1.0, --precision bf16 instead of fp16, "
    "or check the data for extreme regression targets"
)


def pick_device(name: str) -> torch.device:
    """``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``...; one that is not there is an error now,
    not a crash after the model has loaded."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise MtdnnError(f"--device {name}: not a device; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise MtdnnError(f"--device {name}: CUDA is not available here (torch {torch.__version__}); use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise MtdnnError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s)")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise MtdnnError(f"--device {name}: MPS is not available here; use --device cpu")
    return device


class Trainer:
    """Builds a run from a :class:`TrainConfig` and trains it."""

    def __init__(self, config: TrainConfig | RunPlan, host: PluginHost | None = None, progress: bool = True):
        """``Trainer(config, host)`` plans the run first (:func:`plan_run`); ``Trainer(plan)``
        (or :meth:`from_plan`) builds a plan made before."""
        self.dist = Distributed()  # one process, or one rank of a torchrun launch
        if isinstance(config, RunPlan):
            plan = config
        else:  # everything cheap is checked before the encoder is loaded
            plan = plan_run(config, host or PluginHost(config.plugins), distributed=self.dist.enabled)
        config = plan.config
        self.plan, self.config, self.host = plan, config, plan.host
        self.progress = progress and self.dist.is_main
        if config.resume:  # a resume the ranks cannot continue stops before the encoder loads
            checkpoint = ckpt.resolve_checkpoint(config.resume)
            self._check_world(ckpt.read_meta(checkpoint), checkpoint)
        if self.dist.is_main:  # so does a run directory another process is writing
            run_dir.check_not_claimed(config.output_dir)
        if not self.dist.is_main:
            logging.getLogger("mtdnn").setLevel(logging.WARNING)  # rank 0 speaks for the run
        self.output_dir = Path(config.output_dir)
        self.registries = self.host.registries
        self.tasks, self.defs, self.files = plan.tasks, plan.defs, plan.files
        self.resolved = plan.resolved or {name: resolve_task(d, self.registries) for name, d in self.defs.items()}
        self.sampler_config = plan.sampler_config
        self.first_metrics = plan.first_metrics
        self.tracker = plan.tracker()
        self.eval_line = EvaluationLine(self.first_metrics, plan.directions)
        self.reporters = (build_reporters(config.report_to, self.registries.reporters,
                                          RunInfo(self.output_dir, config, dict(self.defs))) if self.dist.is_main else [])
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        self.device = self.dist.device(pick_device(config.device))
        self.dist.start(self.device)
        self._seed_everything(config.seed)
        self._build_model(progress)
        self._build_losses_and_regularizers()
        self._build_schedule()
        self._start_counters()

    def _build_model(self, progress: bool) -> None:
        """Encoder, tokenizer, the tokenized data sets and the multi-task model (compiled and
        wrapped for data-parallel training as the run asks)."""
        config = self.config
        self.encoder, self.tokenizer = build_encoder(config, self.host)
        check_lengths(config, self.defs, self.encoder, self.tokenizer)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.data = load_datasets(self.tasks, self.files, self.tokenizer, config, self.host,
                                  Path(config.cache_dir or self.output_dir / "cache"), progress=progress,
                                  resolved=self.resolved)
        self.model = build_model(self.defs, self.encoder, self.host, self.resolved).to(self.device)
        if config.compile:  # in place, so parameter names (and checkpoints) stay those of the eager model
            self.model.encoder.compile(mode=config.compile_mode, backend=config.compile_backend)
        if config.fsdp:  # in place too: each layer and head a shard unit, names unchanged
            from mtdnn_core.training.sharding import shard_model

            shard_model(self.model)
        self.train_model = self.model
        # a list, not the module-tree walk model.parameters() does on each call: clipping the tiny
        # test model's 43 tensors took 300 instead of 380 us of host time per update (CPU)
        self.parameter_list = list(self.model.parameters())
        if self.dist.enabled:  # not wrapped: the gradients are averaged once per update (reduce_gradients)
            self.dist.check_agree(config=config.model_dump(exclude={"num_workers", "num_threads", "device"}),
                                  data=[d.store.directory.name for d in [*self.data.train, *self.data.eval]])
            torch.manual_seed(config.seed + self.dist.rank)  # dropout differs by rank; weights started equal

    def _build_losses_and_regularizers(self) -> None:
        """Each task's loss and the run's regularizers, set up with the run's tasks and data."""
        config = self.config
        self.losses = {n: self.registries.losses.build(r.loss, r.loss_config) for n, r in self.resolved.items()}
        self.regularizers = [self.registries.regularizers.build(r.name, r.params, registries=self.registries)
                             for r in config.regularizers]
        self.regularizer_names = [r.name for r in config.regularizers]
        context = RegularizerContext(dict(self.defs), {n: self.resolved[n].task_type for n in self.defs},
                                     self.tokenizer, list(self.data.train), self.model, config.seed,
                                     copy_model=self._copy_model)
        for regularizer in self.regularizers:
            regularizer.setup(context)

    def _copy_model(self) -> torch.nn.Module:
        """A copy of the model with its current weights (a regularizer's teacher). Sharded
        (``--fsdp``) it is built afresh and sharded alike, with the random state put back after
        the build's draws, so that a run with such a teacher resumes exactly."""
        if not self.config.fsdp:
            import copy

            return copy.deepcopy(self.model)
        from mtdnn_core.training.sharding import copy_sharded

        def build() -> torch.nn.Module:
            with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
                encoder, _ = build_encoder(self.config, self.host)
                return build_model(self.defs, encoder, self.host, self.resolved).to(self.device)

        return copy_sharded(self.model, build)

    def _build_schedule(self) -> None:
        """The sampler's batches, the update arithmetic, optimizer, learning-rate schedule,
        loss scaling and the weight average."""
        config = self.config
        self.sampler = self.registries.samplers.build(
            config.sampler, config.sampler_config, lengths=[d.lengths() for d in self.data.train],
            batch_size=config.batch_size, seed=config.seed, bucketing=config.length_bucketing,
            max_tokens=config.max_tokens,
        )
        self.sampler.total_epochs = config.epochs
        self.updates = self.plan.update_counts(len(self.sampler.schedule(0)) if self.data.train else 0)
        self.steps_per_epoch, self.total_updates = self.updates.batches_per_epoch, self.updates.total_updates
        self.optimizer = self.registries.optimizers.build(
            config.optimizer, config.optimizer_config,
            params=param_groups(self.model, config.weight_decay), lr=config.lr,
        )
        self.scheduler = self.registries.schedulers.build(
            config.scheduler, config.scheduler_config, optimizer=self.optimizer,
            warmup_steps=self.updates.warmup_updates, total_steps=self.total_updates,
        )
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=config.precision == "fp16")
        # An optimizer that can skip its own update on the device (fused Adam/AdamW take a
        # ``found_inf`` tensor, as GradScaler gives them) lets the non-finite checks run without a
        # host read per step; others are checked on the host once per update.
        self.device_checks = bool(getattr(self.optimizer, "_step_supports_amp_scaling", False)) and not self.scaler.is_enabled()
        self.tally = StepTally(self.device, self.dist.world, self.dist.sum if self.dist.enabled else None)
        self.ema = WeightAverage(self.model, config.ema_decay) if config.ema_decay else None

    def _start_counters(self) -> None:
        """Progress of a fresh run (a resumed one restores them) and the observers to call."""
        config = self.config
        self.best_pending = False  # the last evaluation was the best: its checkpoint is due
        self.stopped_early = False
        self.step = 0  # optimizer updates done
        self.grad_norm: torch.Tensor | None = None  # of the last update, before clipping
        self.epoch = 0
        self.position = 0  # batches of the current epoch's schedule consumed
        self.nonfinite_total = 0
        self.nonfinite_in_row = 0
        self.history: list[dict] = []
        self._observe_steps = self.host.has_observers("on_step_end")
        self._observe_eval = self.host.has_observers("on_evaluate")
        self._write_predictions = self.host.has_observers("write_predictions")
        self._terms: dict[str, list] = {}  # regularizer terms since the last log record (detached)
        self._update_tasks: list[str] = []  # tasks of the current update's micro-batches that went backward
        self._finite: torch.Tensor | None = None  # whether the last loss is finite on every rank
        self.num_workers = config.num_workers if config.num_workers is not None else (2 if self.device.type == "cuda" else 0)

    @classmethod
    def from_plan(cls, plan: RunPlan, progress: bool = True) -> "Trainer":
        """The trainer of a run planned with :func:`plan_run`."""
        return cls(plan, progress=progress)

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _seed_everything(seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed % (2**32))
        torch.manual_seed(seed)

    def autocast(self):
        precision = self.config.precision
        if precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _log(self, record: dict) -> None:
        """A record of the run's log, handed to the reporters (``jsonl`` writes ``log.jsonl``);
        in a data-parallel run, rank 0's alone."""
        if self.dist.is_main:
            self.host.on_log(record)

    # -- one step ------------------------------------------------------------------------
    def loader(self, schedule, start: int = 0):
        """The epoch's batches from ``start`` on, as ``(dataset index, batch on the CPU)``."""
        return batch_loader(self.data.train, schedule, start, self.pad_id, num_workers=self.num_workers,
                            pin_memory=self.device.type == "cuda", seed=self.config.seed, epoch=self.epoch,
                            shard=self.dist.shard if self.dist.enabled else None)

    def batch(self, dataset_index: int, indices: list[int]) -> dict:
        """One collated batch on the device (the loader does the same, possibly in a worker)."""
        return move_to(self.data.train[dataset_index].collate(indices, self.pad_id), self.device)

    def forward_loss(self, dataset_index: int, batch: dict) -> torch.Tensor:
        """The batch's loss: the task loss (applied by the task type), or what a regularizer that
        replaces it returns (it is handed the task loss alone), plus every other regularizer's term.
        Under torchrun each term is weighted by this rank's share of the units it averages over
        (``world`` x share: the ranks' mean is the whole batch's loss)."""
        dataset = self.data.train[dataset_index]
        task = dataset.task
        rank_weight = batch.pop("rank_weight", 1.0)
        with self.autocast():
            outputs = self.train_model(task.name, batch)
            head = self.model.heads[task.name]
            loss = dataset.task_type.compute_loss(head, self.losses[task.name], outputs, batch)
            terms: list[list] = [[None, loss, None]]  # [regularizer name or None, value, units]
            replacing_first = sorted(zip(self.regularizer_names, self.regularizers), key=lambda nr: not nr[1].replaces_task_loss)
            for name, regularizer in replacing_first:
                extra = regularizer(self.model, task, batch, outputs, loss)
                if extra is None:
                    continue
                units = regularizer.term_units(task, dataset.task_type, batch) if self.dist.enabled else None
                if regularizer.replaces_task_loss:
                    loss = extra
                    terms[0] = [name, extra, units]
                else:
                    loss = loss + extra
                    terms.append([name, extra, units])
        if not self.dist.enabled:
            for name, value, _ in terms:
                if name is not None:
                    self._terms.setdefault(name, []).append(value.detach())
            self._finite = None
            return loss
        task_units = dataset.task_type.loss_units(head, self.losses[task.name], batch)
        units = torch.stack([torch.as_tensor(task_units if u is None else u, dtype=torch.float32).to(self.device).reshape(())
                             for _, _, u in terms]) * float(rank_weight > 0)
        loss = sum(value for _, value, _ in terms)
        weights, self._finite = self.dist.weights(units, torch.isfinite(loss.detach()))
        weighted = [value * weights[i] for i, (_, value, _) in enumerate(terms)]
        for (name, _, _), value in zip(terms, weighted):
            if name is not None:
                self._terms.setdefault(name, []).append(value.detach())
        return sum(weighted)

    def _term_record(self) -> dict:
        """Mean of each regularizer's term since the last record (over every rank's rows under
        torchrun), and its own log values (averaged over ranks; counts summed)."""
        record = {}
        names = list(dict.fromkeys(self.regularizer_names))
        if names:  # [sum, count] per regularizer, every rank's: one collective and one host read
            sums = torch.zeros(len(names), 2, dtype=torch.float64, device=self.device)
            for i, name in enumerate(names):
                for value in self._terms.get(name, []):
                    sums[i, 0] += value.to(self.device, torch.float64)
                    sums[i, 1] += 1
            for name, (total, count) in zip(names, self.dist.sum(sums).tolist()):
                if count:
                    record[f"reg_{name}"] = total / count
        for name, regularizer in zip(self.regularizer_names, self.regularizers):
            values = getattr(regularizer, "log_values", dict)() or {}
            for key, value in self._across_ranks(values, getattr(regularizer, "log_sums", ())).items():
                record[f"reg_{name}_{key}"] = float(value)
        self._terms = {}
        return record

    def _across_ranks(self, values: dict, summed: tuple[str, ...]) -> dict:
        """A regularizer's log values over every rank: counts summed, the rest averaged."""
        if not self.dist.enabled:
            return values
        everyone = self.dist.gather({k: float(v) for k, v in values.items()})
        merged = {}
        for key in dict.fromkeys(k for d in everyone for k in d):
            seen = [d[key] for d in everyone if key in d]
            merged[key] = sum(seen) if key in summed else sum(seen) / len(seen)
        return merged

    def backward(self, loss: torch.Tensor, task: str, weight: float = 1.0) -> bool:
        """Backward unless the loss is NaN/inf (then the batch is skipped and counted; in a
        data-parallel run by every rank when any rank's loss is). ``weight``: a factor of the loss.
        With device checks the batch's loss is zeroed on the device instead, and :meth:`update`
        skips the update if its gradient is not finite."""
        finite = getattr(self, "_finite", None)  # found with the rank weights (forward_loss), else checked here
        self._finite = None
        if finite is None:
            finite = self.dist.all_true(torch.isfinite(loss.detach()))
        if not self.device_checks and not finite:
            self._nonfinite("loss")
            return False
        self._update_tasks.append(task)
        self.tally.add(task, loss, finite)
        if self.device_checks:
            loss = torch.where(finite, loss, torch.zeros_like(loss))
        self.scaler.scale(loss * weight / self.config.grad_accumulation).backward()
        return True

    def _nonfinite(self, what: str) -> None:
        self.nonfinite_total += 1
        self.nonfinite_in_row += 1
        if self.nonfinite_in_row >= self.config.max_nonfinite_in_row:
            raise TrainingDiverged(
                f"{self.nonfinite_in_row} non-finite {what} values in a row at update {self.step} "
                f"(epoch {self.epoch}); stopped. {DIVERGED_ADVICE}"
            )

    def update(self) -> bool:
        """Average the gradients over ranks (torchrun), clip, step optimizer and scheduler; skip
        (and count) non-finite gradients."""
        if not self.config.fsdp:  # sharded, the gradients were reduce-scattered in each backward
            self.dist.reduce_gradients(self.parameter_list, key=tuple(self._update_tasks))
        self._update_tasks = []
        self.scaler.unscale_(self.optimizer)
        self.grad_norm = None
        if self.device_checks:
            self._device_checked_step()
        else:
            self.tally.end_update()  # non-finite values are counted on the host on this path
            if self.config.grad_clip:
                norm = torch.nn.utils.clip_grad_norm_(self.parameter_list, self.config.grad_clip)
                if self.config.fsdp:
                    norm = sharding_local(norm)
                self.grad_norm = norm
                if not torch.isfinite(norm) and not self.scaler.is_enabled():
                    self.optimizer.zero_grad(set_to_none=True)
                    self._nonfinite("gradient norm")
                    return False
            self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        for regularizer in self.regularizers:
            regularizer.after_update(self.model)
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        return True

    def _device_checked_step(self) -> None:
        """The optimizer step, skipped on the device when the gradient is not finite or every
        loss of the update was not (no host read). The skipped update still counts as an update:
        the schedule, the weight average and a Bregman teacher move on, as with GradScaler."""
        if self.config.grad_clip:
            norm = torch.nn.utils.clip_grad_norm_(self.parameter_list, self.config.grad_clip)
        else:
            grads = [p.grad for p in self.parameter_list if p.grad is not None]
            norm = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros((), device=self.device)
        if self.config.fsdp:
            norm = sharding_local(norm)
        self.grad_norm = norm
        skipped = ~torch.isfinite(norm) | ~self.tally.update_has_finite_loss()
        self.tally.end_update(skipped)
        self.optimizer.found_inf = skipped.to(torch.float32)
        try:
            self.optimizer.step()
        finally:
            del self.optimizer.found_inf

    def _settle(self, losses: bool = True):
        """Read the device tally (one host read); stop when the non-finite values ran too long."""
        settled = self.tally.settle(losses)
        self.nonfinite_total += settled.nonfinite
        if settled.worst_in_row >= self.config.max_nonfinite_in_row:
            raise TrainingDiverged(
                f"{settled.worst_in_row} non-finite loss or gradient values in a row by update {self.step} "
                f"(epoch {self.epoch}; checked every --log-every updates); stopped. {DIVERGED_ADVICE}")
        return settled

    # -- the loop ------------------------------------------------------------------------
    def train(self, resume: str | Path | None = None) -> dict[str, Any]:
        config = self.config
        resume = resume or config.resume
        claim = None  # rank 0 alone writes, and holds the directory while it does
        if self.dist.is_main:
            claim = run_dir.prepare(self.output_dir, resume=bool(resume), overwrite=config.overwrite)
        try:
            if self.dist.is_main:
                ckpt.remove_stale_temporaries(self.output_dir)  # claimed: no other process is writing them
            self.dist.barrier()
            with attached(self.host, self.reporters), self._console():
                try:
                    summary = self._train(resume)
                except ObserverError as exc:
                    saved = self._save_after_failure(exc)
                    exc.checkpoint = None if saved is None else str(saved)
                    raise
            self.dist.barrier()
        finally:
            if claim is not None:
                claim.release()
        return summary

    def _save_after_failure(self, exc: ObserverError) -> Path | None:
        """A reporter or observer failed between two updates: the run stops, but never without a
        checkpoint of the updates made so far. Returns the checkpoint that holds them (the newest
        one already may), or None: no update yet, or a data-parallel run, whose other processes
        cannot join a checkpoint now (its newest checkpoint is what a resume starts from)."""
        LOGGER.error(f"{exc}; the run stops")
        with contextlib.suppress(MtdnnError, OSError):
            latest = ckpt.resolve_checkpoint(self.output_dir)
            if ckpt.read_meta(latest).get("step") == self.step:
                return latest
        if self.step == 0 or self.dist.enabled:
            return None
        return self.save()

    def _train(self, resume: str | Path | None) -> dict[str, Any]:
        config = self.config
        self._observe()
        if resume:
            self.restore(ckpt.resolve_checkpoint(resume))
        if self.dist.is_main:
            atomic_write_json(self.output_dir / "config.json", config.model_dump())
        if self.dist.is_main:
            self.host.on_train_begin({"output_dir": str(self.output_dir), "config": config.model_dump(),
                                      "tasks": list(self.defs), "step": self.step, "total_steps": self.total_updates})
        self._loop()
        summary = {"step": self.step, "epoch": self.epoch, "nonfinite_skipped": self.nonfinite_total,
                   "history": self.history, "output_dir": str(self.output_dir)}
        if self.tracker is not None:
            summary.update(best_step=self.tracker.best_step, metric_for_best=config.metric_for_best,
                           best_value=None if self.tracker.best_score is None else
                           self.tracker.criterion.value(self.tracker.best_score),
                           stopped_early=self.stopped_early)
        if self.dist.is_main:
            atomic_write_json(self.output_dir / "summary.json", summary)
        if self.dist.is_main:
            self.host.on_train_end(summary)
        return summary

    def _observe(self) -> None:
        """Which observer hooks have implementations (plugins' and this run's reporters); in a
        data-parallel run only rank 0 reports."""
        main = self.dist.is_main
        self._observe_steps = main and self.host.has_observers("on_step_end")
        # they get the update's loss over every rank: all ranks reduce it when rank 0 has step observers
        self.tally.keep_update_loss = bool(self.dist.broadcast(self._observe_steps))
        self._observe_eval = main and self.host.has_observers("on_evaluate")
        self._write_predictions = main and self.host.has_observers("write_predictions")

    def _console(self):
        """Log lines printed above the progress bar rather than through it."""
        if not self.progress:
            return contextlib.nullcontext()
        from tqdm.contrib.logging import logging_redirect_tqdm

        return logging_redirect_tqdm(loggers=[logging.getLogger("mtdnn")])

    def _out_of_patience(self) -> bool:
        tracker = self.tracker
        if tracker is not None and tracker.patience is not None and tracker.since_best >= tracker.patience:
            self.stopped_early = True
        return self.stopped_early

    def _loop(self) -> None:
        config = self.config
        bar = self._progress_bar()
        self.model.train()
        stop = (config.max_steps is not None and self.step >= config.max_steps) or self._out_of_patience()
        started = time.perf_counter()
        while self.epoch < config.epochs and not stop:
            schedule = self.sampler.schedule(self.epoch)
            micro = good = 0  # batches since the last update, and how many of them went backward
            for dataset_index, batch in self.loader(schedule, self.position):
                batch = move_to(batch, self.device)
                loss = self.forward_loss(dataset_index, batch)  # weighted by this rank's share under torchrun
                task_name = self.data.train[dataset_index].task.name
                if self.backward(loss, task_name):
                    good += 1
                micro += 1
                self.position += 1
                last = self.position == len(schedule)
                if micro % config.grad_accumulation and not last:
                    continue
                if good == 0 or not self.update():
                    self.optimizer.zero_grad(set_to_none=True)
                    self._update_tasks = []
                    good = 0
                    continue
                good = 0
                if not self.device_checks:
                    self.nonfinite_in_row = 0
                if self._after_update(task_name, last, started, bar):
                    stop = True
                    break
            if stop and self.position < len(schedule):
                break
            self.evaluate(tag=f"epoch{self.epoch}")
            self.epoch += 1
            self.position = 0
            self.save()
            stop = stop or self.stopped_early
        if stop and self.position != 0 and not self.stopped_early:  # stopped mid-epoch by max_steps
            self.evaluate(tag=f"step{self.step}")
            self.save()
        if config.epochs == 0:  # evaluation only
            self.evaluate(tag="initial")
        self._settle(losses=False)
        bar.close()

    def _after_update(self, task_name: str, last: bool, started: float, bar: Any) -> bool:
        """Log, tell observers, evaluate and save as due after an update; whether the run stops here
        (stopped early, or ``max_steps`` reached)."""
        config = self.config
        bar.update(1)
        if self.step % config.log_every == 0 or last:
            settled = self._settle()
            record = {"event": "train", "step": self.step, "epoch": self.epoch, "task": task_name,
                      "loss": settled.loss, "lr": self.scheduler.get_last_lr()[0],
                      "task_loss": settled.task_loss,
                      "nonfinite_skipped": self.nonfinite_total, **self._term_record(),
                      "elapsed_s": round(time.perf_counter() - started, 2)}
            self._log(record)
            bar.set_postfix(loss=f"{record['loss']:.4f}", epoch=self.epoch)
        update_loss = self._update_loss() if self.tally.keep_update_loss else None  # on every rank
        if self._observe_steps:
            self.host.on_step_end({
                "step": self.step, "epoch": self.epoch, "task": task_name, "loss": update_loss,
                "lr": self.scheduler.get_last_lr()[0],
                "grad_norm": None if self.grad_norm is None else float(self.grad_norm),
            })
        final = last or bool(config.max_steps and self.step >= config.max_steps)  # evaluated and saved below
        if config.eval_every and self.step % config.eval_every == 0 and not final:
            self.evaluate(tag=f"step{self.step}")
        saving = config.save_every and self.step % config.save_every == 0 and not final
        if saving or (self.best_pending and not final) or (self.stopped_early and not final):
            self.save()
        return bool(self.stopped_early or (config.max_steps and self.step >= config.max_steps))

    def _update_loss(self) -> float:
        """Mean loss of the last update's finite micro-batches, over every rank (one small
        collective and a host read, only while rank 0 has ``on_step_end`` observers); NaN when
        none was finite (an update skipped on the device)."""
        total, count = self.tally.update_loss.tolist() if not self.dist.enabled else \
            (self.dist.sum(self.tally.update_loss) / self.dist.world).tolist()
        return total / count if count else float("nan")

    def _progress_bar(self):
        from tqdm.auto import tqdm

        return tqdm(total=self.total_updates, initial=self.step, desc="train", unit="upd",
                    disable=not self.progress, mininterval=1.0, dynamic_ncols=True)

    # -- evaluation ----------------------------------------------------------------------
    def evaluate(self, tag: str) -> dict[str, dict]:
        """Score every dev/test set (with the weight average when there is one), then judge the
        evaluation: the console line, the best so far, early stopping."""
        results = {}
        scores_dir = self.output_dir / "scores"
        model = self.ema.model if self.ema is not None else self.model
        for dataset in self.data.eval:
            output = predict(model, dataset, self.config.eval_batch_size, self.device, self.pad_id, self.autocast,
                             dist=self.dist, lockstep=self.config.fsdp)
            if output is None:  # another rank than 0: it scored its share, rank 0 decodes and writes
                continue
            metrics = compute_metrics(dataset, output, self.resolved[dataset.task.name].metrics)
            atomic_write_json(scores_dir / f"{dataset.name}.{tag}.json", {
                "dataset": dataset.name, "task": dataset.task.name, "epoch": self.epoch, "step": self.step,
                "metrics": metrics, "uids": output["uids"], "predictions": readable_predictions(dataset, output),
                "scores": output["scores"],
            })
            if self._write_predictions:
                self.host.write_predictions(dataset, output, scores_dir / f"{dataset.name}.{tag}")
            results[dataset.name] = metrics
            if self._observe_eval:
                self.host.on_evaluate(dataset.name, self.epoch, self.step, metrics)
        results = self.dist.broadcast(results)  # every rank judges the same evaluation (early stopping)
        record = {"event": "eval", "tag": tag, "step": self.step, "epoch": self.epoch, "metrics": results}
        self.history.append(record)
        self._log(record)
        if self.dist.is_main:
            atomic_write_json(self.output_dir / "metrics.json", self.history)
        self._judge(results)
        return results

    def _judge(self, results: dict[str, dict]) -> None:
        LOGGER.info(self.eval_line.add(self.step, self.epoch, results))
        if self.tracker is None:
            return
        decision = self.tracker.update(self.step, results)
        self.best_pending = decision.improved
        if decision.stop and not self.stopped_early:
            self.stopped_early = True
            criterion = self.tracker.criterion
            LOGGER.info(f"early stopping: {self.tracker.patience} evaluation(s) without improving {criterion.spec} "
                        f"(best {criterion.shown(decision.best_score)} at step {decision.best_step})")

    # -- checkpoints ---------------------------------------------------------------------
    def save(self) -> Path | None:
        """Checkpoint (rank 0 writes; every rank's random state is kept, for an exact resume)."""
        self._settle(losses=False)
        rng_per_rank = self.dist.gather(torch.get_rng_state())
        weights = optimizer_state = None
        regularizer_states = None
        if self.config.fsdp:  # gathered by every rank, kept on rank 0
            from mtdnn_core.training.sharding import full_optimizer_state, full_state

            weights, optimizer_state = full_state(self.model), full_optimizer_state(self.model, self.optimizer)
            regularizer_states = [r.state_dict() for r in self.regularizers]  # a teacher's shards too
        if not self.dist.is_main:
            self.dist.barrier()
            self.best_pending = False
            return None
        trainer_state = {
            "optimizer": optimizer_state if self.config.fsdp else self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "torch_rng_per_rank": rng_per_rank,
            "python_rng": random.getstate(),
            "regularizers": regularizer_states if regularizer_states is not None else [r.state_dict() for r in self.regularizers],
        }
        if torch.cuda.is_available():
            trainer_state["cuda_rng"] = torch.cuda.get_rng_state_all()
        if self.ema is not None:
            trainer_state["ema_updates"] = self.ema.updates
        meta = {
            "mtdnn_version": __version__,
            "step": self.step,
            "epoch": self.epoch,
            "position": self.position,
            "nonfinite_skipped": self.nonfinite_total,
            "world_size": self.dist.world,
            "config": self.config.model_dump(),
            "task_defs": {name: d.model_dump() for name, d in self.defs.items()},
            "plugins": [i.name for i in self.host.info.values() if not i.builtin],
            "versions": plugin_versions(self.host),
            "last_metrics": self.history[-1] if self.history else None,
        }
        path = ckpt.save_checkpoint(self.output_dir, f"checkpoint-{self.step:07d}", self.model, self.tokenizer,
                                    trainer_state, meta, keep=self.config.keep_checkpoints,
                                    extra={EMA_FILE: self.ema.save} if self.ema is not None else None, weights=weights)
        if self.best_pending and self.tracker is not None:
            write_best(self.output_dir, path.name, self.step, self.tracker.criterion, self.tracker.best_score)
            self.best_pending = False
        self.dist.barrier()
        return path

    def _check_world(self, meta: dict, checkpoint: Path) -> None:
        if meta.get("world_size", 1) != self.dist.world:
            raise MtdnnError(f"{checkpoint}: written by {meta.get('world_size', 1)} process(es), resumed by {self.dist.world}; "
                             f"resume with the same torchrun --nproc_per_node (the data shards and random states differ)")

    def restore(self, checkpoint: Path) -> None:
        meta = ckpt.read_meta(checkpoint)
        run_dir.check_resume(meta["config"], self.config.model_dump(), checkpoint)
        self._check_world(meta, checkpoint)
        ckpt.load_weights(self.model, checkpoint, sharded=self.config.fsdp)
        state = ckpt.load_trainer_state(checkpoint)
        try:
            if self.config.fsdp:
                from mtdnn_core.training.sharding import load_optimizer_state

                load_optimizer_state(self.model, self.optimizer, state["optimizer"])
            else:
                self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
        except (KeyError, ValueError, TypeError) as exc:
            raise ckpt.CheckpointError(f"{checkpoint / 'trainer_state.pt'}: does not fit this run's optimizer ({exc}); "
                                       f"resume from another checkpoint") from None
        for regularizer, reg_state in zip(self.regularizers, state.get("regularizers", [])):
            regularizer.load_state_dict(reg_state)
        if self.ema is not None:
            if (checkpoint / EMA_FILE).is_file():
                self.ema.load(checkpoint / EMA_FILE, int(state.get("ema_updates", 0)))
            else:  # the run had no average: start one from the restored weights
                LOGGER.warning(f"{checkpoint}: no {EMA_FILE}; the weight average starts from this checkpoint's weights")
                self.ema = WeightAverage(self.model, self.config.ema_decay)
        per_rank = state.get("torch_rng_per_rank")
        torch.set_rng_state(per_rank[self.dist.rank] if per_rank else state["torch_rng"])
        random.setstate(_as_tuple(state["python_rng"]))
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        self.step, self.epoch, self.position = meta["step"], meta["epoch"], meta["position"]
        self.nonfinite_total = meta.get("nonfinite_skipped", 0)
        previous = self.output_dir / "metrics.json"
        if previous.is_file():
            try:
                self.history = [h for h in json.loads(previous.read_text()) if h["step"] <= self.step]
            except (ValueError, KeyError, TypeError):
                self.history = []  # rebuilt from the evaluations to come
        if self.tracker is not None:
            self.tracker.replay(self.history)
        self.eval_line.replay(self.history)
        if self.dist.is_main:
            run_dir.truncate_log(self.output_dir, self.step)
        self._log({"event": "resume", "checkpoint": str(checkpoint), "step": self.step, "epoch": self.epoch})


def _as_tuple(value):
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value
