"""Every hook a plugin can implement.

A plugin is a module (or object) with functions decorated by :data:`mtdnn_core.hookimpl`,
named after the specs below. Implementations may accept fewer arguments than a spec offers,
so new arguments can be added to a spec without breaking existing plugins. ``SPEC_VERSION``
is bumped (minor) when a hook or argument is added and (major) when one is removed. The hooks
are part of the plugin API: a plugin states the API range it needs (``MTDNN_API``) against
``mtdnn_core.api.API_VERSION``, which follows every such change.

Registration hooks are called once per plugin host, in collect-all mode: each plugin adds
entries to the typed registry it receives (``registry.add(name, factory, config=Model)``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    import click

    from mtdnn_core.data.formats import DataFormat
    from mtdnn_core.losses import Loss
    from mtdnn_core.metrics import Metric
    from mtdnn_core.model.heads import Head
    from mtdnn_core.observers import LogRecord, RunStart, StepState, TrainSummary
    from mtdnn_core.registry import Registry
    from mtdnn_core.regularizers import Regularizer
    from mtdnn_core.samplers import TaskSampler
    from mtdnn_core.task_types import TaskType
    from mtdnn_core.tasks import Task

PROJECT = "mtdnn"
SPEC_VERSION = "1.4"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_task_types(registry: Registry[TaskType]) -> None:
    """Add task types: :class:`mtdnn_core.task_types.TaskType` objects (what a task predicts, how
    its labels parse, its batches collate, its outputs decode into predictions and metrics).

    Added in 1.1. The built-in ``classification``, ``regression``, ``ranking`` and
    ``sequence_labeling`` register through this hook too.
    """


@hookspec
def register_encoders(registry: Registry[Any]) -> None:
    """Add encoder loaders: ``factory(spec: str, **config) -> (nn.Module, tokenizer)``.

    Added in 1.0. The built-in ``hf`` loader takes any ``AutoModel`` name or directory.
    """


@hookspec
def register_heads(registry: Registry[Head]) -> None:
    """Add task heads: subclasses of :class:`mtdnn_core.model.heads.Head`.

    Added in 1.0. A head is built as ``cls(hidden_size=..., task=TaskDef, config=Config)`` when its
    ``__init__`` takes ``config`` (its validated pydantic model), else with the config's fields as
    keyword arguments. It keeps the initialisation its ``__init__`` gives unless the class sets
    ``encoder_style_init = True`` (linear layers drawn like the encoder's own).
    """


@hookspec
def register_losses(registry: Registry[Loss]) -> None:
    """Add losses: subclasses of :class:`mtdnn_core.losses.Loss`. Added in 1.0."""


@hookspec
def register_metrics(registry: Registry[Metric]) -> None:
    """Add metrics: :class:`mtdnn_core.metrics.Metric` objects (``fn(golds, preds, scores)``).

    Added in 1.0.
    """


@hookspec
def register_samplers(registry: Registry[TaskSampler]) -> None:
    """Add multi-task batch schedules: subclasses of :class:`mtdnn_core.samplers.TaskSampler`.

    Added in 1.0.
    """


@hookspec
def register_optimizers(registry: Registry[Any]) -> None:
    """Add optimizers: ``factory(param_groups, lr=..., **config) -> torch.optim.Optimizer``.

    Added in 1.0.
    """


@hookspec
def register_schedulers(registry: Registry[Any]) -> None:
    """Add learning-rate schedules: ``factory(optimizer, warmup_steps, total_steps, **config)``
    returning a ``torch.optim.lr_scheduler.LRScheduler``. Added in 1.0.
    """


@hookspec
def register_data_formats(registry: Registry[DataFormat]) -> None:
    """Add canonical data formats: :class:`mtdnn_core.data.formats.DataFormat` objects that read
    a file into examples and encode them into features. Added in 1.0.
    """


@hookspec
def register_tasks(registry: Registry[Task]) -> None:
    """Add task definitions: :class:`mtdnn_core.tasks.Task` (a ``TaskDef`` plus, optionally, a
    function that finds or prepares its canonical files in a data directory). Added in 1.0.

    The function is called as ``locate(definition, data_dir, work_dir)`` with the run's
    definition of the task (since 1.4; ``locate(data_dir, work_dir)`` still works).
    """


@hookspec
def register_regularizers(registry: Registry[Regularizer]) -> None:
    """Add regularizers: subclasses of :class:`mtdnn_core.regularizers.Regularizer`, extra loss
    terms computed around a training step (adversarial, distillation, ...). Added in 1.0.
    """


@hookspec
def register_reporters(registry: Registry[Any]) -> None:
    """Add reporters (TensorBoard, W&B, MLflow, ...): classes built once per training run as
    ``cls(run)`` (:class:`mtdnn_core.reporting.RunInfo`: output directory, config, task
    definitions) when the run lists their name in ``report_to``. The object's own ``@hookimpl``
    methods (``on_train_begin``, ``on_step_end``, ``on_log``, ``on_evaluate``, ``on_train_end``)
    then observe that run only; a ``close()`` method, if any, runs when the run ends, also
    after an error. Build cheaply and fail early (a missing package) in ``__init__``; open
    files and connections in ``on_train_begin``.

    Added in 1.2. The built-in ``jsonl`` (``log.jsonl``) and ``tensorboard`` register this way.
    """


@hookspec
def register_task_def_fields(registry: Registry) -> None:
    """Add keys to task definitions: :class:`mtdnn_core.task_settings.TaskDefField` objects
    (``registry.add(field.name, field)``), for settings a plugin needs per task (a distillation
    loss, an adversarial divergence). Files then carry the key like the core's own; the core
    validates its value (type, the registry it names) and refuses keys no loaded plugin
    declared. The plugin reads it with ``field.value(task)``, which applies its defaults.

    Added in 1.4.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add CLI subcommands (``cli.add_command(...)``). Added in 1.0."""


@hookspec(firstresult=True)
def resolve_data_dir(name: str) -> Any:
    """Map a symbolic ``--data-dir`` value (e.g. ``glue:sample``) to a real directory.

    First non-None answer wins. Added in 1.0.
    """


@hookspec(firstresult=True)
def export_head(head: Any, task: Any) -> Any:
    """Describe how a trained head runs without mtdnn, for ``mtdnn export``: return a
    :class:`mtdnn_core.head_export.HeadExport` (the head's inference source needing only torch,
    its weights, its options) for the head classes the plugin provides, else ``None``.

    ``head`` is the trained module (eval mode), ``task`` its ``TaskDef``. First non-None answer
    wins. Added in 1.3.
    """


@hookspec
def on_step_end(state: StepState) -> None:
    """Observe a finished optimizer update.

    ``state`` (a :class:`mtdnn_core.observers.StepState`; a dict before API 1.0) holds
    ``step`` (updates done), ``epoch``, ``task`` (of the update's last batch),
    ``loss`` (mean task loss of the update's batches, regularizer terms included), ``lr`` (of the
    first parameter group, after the update) and ``grad_norm`` (before clipping; ``None`` without
    clipping). For logging and instrumentation; it must not change training. Added in 1.0; the
    keys beyond step/epoch/loss in 1.1.
    """


@hookspec
def on_evaluate(dataset: str, epoch: int, step: int, metrics: dict[str, Any]) -> None:
    """Observe the metrics of one evaluated dataset. Added in 1.0."""


@hookspec
def on_train_begin(run: RunStart) -> None:
    """Observe the start of a training run (after a resume has restored its state).

    ``run`` (a :class:`mtdnn_core.observers.RunStart`) holds ``output_dir``, ``config`` (the
    run's settings as a dict), ``tasks`` (names),
    ``step`` (updates already done: 0, or where a resumed run continues) and ``total_steps``.
    Added in 1.2.
    """


@hookspec
def on_log(record: LogRecord) -> None:
    """Observe every record of the run's log (a :class:`mtdnn_core.observers.LogRecord`; its
    ``data`` is what ``log.jsonl`` holds): ``event`` is ``train``
    (step, epoch, mean loss since the previous record and per task in ``task_loss``, lr, the
    regularizers' terms), ``eval`` (every dataset's metrics) or ``resume``. Added in 1.2.
    """


@hookspec
def on_train_end(summary: TrainSummary) -> None:
    """Observe the end of a training run: ``summary`` (a
    :class:`mtdnn_core.observers.TrainSummary`) holds step, epoch, the metric history,
    the output directory and, with ``metric_for_best``, the best step. Added in 1.2.
    """


@hookspec
def write_predictions(dataset: Any, output: dict, prefix: Any) -> None:
    """Write extra prediction files for a scored dataset (e.g. CoNLL columns).

    ``dataset`` is a :class:`mtdnn_core.data.features.TaskDataset`, ``output`` holds uids,
    predictions, golds (and words for sequence labeling), ``prefix`` is a path without
    extension to write beside the JSON score file. Added in 1.0.
    """
