"""The plugin API of mtdnn: every name a plugin may use, and nothing else.

Plugins (first- and third-party), their tests, examples and benchmarks import core names from
here only (``from mtdnn_core.api import Head, hookimpl``), never from the modules behind them,
which may move in any release. ``mtdnn_core.testing`` (the pytest plugin for plugin authors:
fixtures, ``real_data``, ``make_host``) is public too and follows the same version.

Versioning (``API_VERSION``, ``MAJOR.MINOR``):

* a minor bump (1.0 -> 1.1) only adds: new names, new optional arguments, new hooks or hook
  arguments, new payload fields. A plugin written against 1.0 keeps working with every 1.x.
* a major bump (1.x -> 2.0) removes or changes something. Nothing is removed without first
  being deprecated for at least one minor version (it keeps working and warns with a
  ``DeprecationWarning`` that names the replacement), e.g. reading observer payloads as dicts.

A plugin states the range it was written for in its entry-point module: ``MTDNN_API =
">=1.0,<2"`` (a PEP 440 specifier); the plugin host checks it when it loads the plugin and
refuses it, naming the plugin, its range and this version, when they do not match.

Names are resolved on first use, so importing this module is cheap (no torch) and a plugin's
entry point can import what it needs at module level.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

API_VERSION = "1.2"  # what plugins state in MTDNN_API; see the module docstring for bumps

# name -> ("module" or "module:attribute", what it is); docs/api.md lists the same
_EXPORTS: dict[str, tuple[str, str]] = {
    # Hooks and the plugin host
    "hookimpl": ("mtdnn_core.hookspecs", "Marks a plugin function as the implementation of a hook (``@hookimpl``)."),
    "PluginHost": ("mtdnn_core.plugins", "Loads plugins and fills the registries; one per run (tests: one per test)."),
    "Registry": ("mtdnn_core.registry", "The typed registry a registration hook fills: ``Registry[Head]`` holds heads."),
    "Registries": ("mtdnn_core.registry", "Every registry of one host, one attribute per kind (``host.registries.heads``)."),
    "Entry": ("mtdnn_core.registry", "One registered component: name, factory, config model, origin, aliases."),
    "Origin": ("mtdnn_core.registry", "Which plugin (and version) registered an entry."),
    # Observer hook payloads
    "StepState": ("mtdnn_core.observers", "``on_step_end(state)``: step, epoch, task, loss, lr, grad_norm of a finished update."),
    "RunStart": ("mtdnn_core.observers", "``on_train_begin(run)``: output_dir, config, tasks, step, total_steps."),
    "LogRecord": ("mtdnn_core.observers", "``on_log(record)``: one record of the run's log.jsonl (event, step, ...)."),
    "TrainSummary": ("mtdnn_core.observers", "``on_train_end(summary)``: step, epoch, history, output_dir, best checkpoint."),
    "Reporter": ("mtdnn_core.observers", "Protocol of a reporter class (``register_reporters``): built as ``cls(run)``."),
    "RunInfo": ("mtdnn_core.reporting", "What a reporter is built with: output directory, config, task definitions."),
    # Errors
    "MtdnnError": ("mtdnn_core.errors", "Base of every error shown to the user as a message (no traceback, exit 1)."),
    "ConfigError": ("mtdnn_core.errors", "Bad configuration; lists every problem with its key (and line)."),
    "DataError": ("mtdnn_core.errors", "Bad input data; the message names the file and line."),
    "PluginError": ("mtdnn_core.errors", "A plugin or a component it registers is broken; names the plugin."),
    "ObserverError": ("mtdnn_core.errors", "An observer hook (or reporter) failed; names it."),
    "UnknownNameError": ("mtdnn_core.errors", "A name no registry knows; lists the known ones and suggests the closest."),
    "did_you_mean": ("mtdnn_core.errors", "The suffix ``; did you mean X?`` for the closest of some choices, or an empty string."),
    # Files: atomic writes and output checks
    "atomic_write_bytes": ("mtdnn_core.io", "Write a file all at once or not at all (temporary file, fsync, rename)."),
    "atomic_write_text": ("mtdnn_core.io", "As :func:`atomic_write_bytes`, for UTF-8 text."),
    "atomic_write_json": ("mtdnn_core.io", "As :func:`atomic_write_bytes`, for an object as indented JSON."),
    "file_sha256": ("mtdnn_core.io", "Hex SHA-256 of a file, read in chunks."),
    "is_write_failure": ("mtdnn_core.io", "Whether an exception is a failed write (full disk, permissions) from any library."),
    "WriteError": ("mtdnn_core.io", "A failed write, naming the file."),
    # Downloading data sets (``mtdnn <plugin> download``)
    "fetch": ("mtdnn_core.download", "Download a URL to a file, resuming a ``.part`` file, checking its sha256."),
    "read_checksums": ("mtdnn_core.download", "``sha256  name`` lines (as sha256sum writes them) as a dict."),
    "safe_extract": ("mtdnn_core.download", "Extract a zip archive, refusing members that would leave the destination."),
    "check_output": ("mtdnn_core.output_paths", "Refuse an output path that is an input, inside one, a run or a dangling link."),
    "check_default_output": ("mtdnn_core.output_paths", "Refuse to replace an existing default output the user did not name."),
    "OutputPathError": ("mtdnn_core.output_paths", "Raised by the output checks; names the option and the path."),
    "TRAIN_RUN_MARKERS": ("mtdnn_core.output_paths", "File names (globs) that mark a directory as a training run."),
    # Configuration: tasks and training runs
    "TaskDef": ("mtdnn_core.config", "One task's definition (type, labels, head, loss, metrics, ...)."),
    "TaskDefField": ("mtdnn_core.task_settings", "A key a plugin adds to task definitions (``register_task_def_fields``)."),
    "TrainConfig": ("mtdnn_core.config", "Every setting of a training run."),
    "load_yaml": ("mtdnn_core.config", "Parse YAML text safely, errors naming the source and line."),
    "parse_task_defs": ("mtdnn_core.config", "Task definitions from a dict (as in a task-definition YAML)."),
    "load_task_defs": ("mtdnn_core.config", "Task definitions from a YAML file."),
    "complete_task_def": ("mtdnn_core.config", "Fill a task definition's defaults from its task type and the registries."),
    "check_task_defs": ("mtdnn_core.config", "Check task definitions against the registries; every problem at once."),
    "build_train_config": ("mtdnn_core.config", "A :class:`TrainConfig` from a dict, errors naming the keys."),
    "load_train_config": ("mtdnn_core.config", "A :class:`TrainConfig` from a YAML file plus overrides."),
    # Commands that extend ``mtdnn train``
    "cli": ("mtdnn_core.cli:main", "The ``mtdnn`` click group (for invoking the CLI in tests: ``CliRunner().invoke(cli, ...)``)."),
    "train_command": ("mtdnn_core.cli:train", "The ``mtdnn train`` click command (to wrap it with extra options)."),
    "plugin_option": ("mtdnn_core.train_options", "The ``--plugin NAME`` option (repeatable), as ``plugins``."),
    "strict_option": ("mtdnn_core.train_options", "The ``--strict-plugins`` flag, as ``strict_plugins``."),
    "train_options": ("mtdnn_core.train_options", "Decorator adding every option generated from :class:`TrainConfig`."),
    "option_specs": ("mtdnn_core.train_options", "``(flag, name, click type, help)`` of each generated option."),
    "parse_sets": ("mtdnn_core.train_options", "``--set KEY=VALUE`` values (YAML) as a dict."),
    "split_data_dirs": ("mtdnn_core.train_options", "``--data-dir [TASK=]DIR`` values as ``data_dir``/``task_data_dirs``."),
    "config_from_options": ("mtdnn_core.train_options", "The :class:`TrainConfig` from --config, the generated options and --set."),
    "print_summary": ("mtdnn_core.train_options", "Print a finished run's summary as ``mtdnn train`` does."),
    "settle_output": ("mtdnn_core.training.run_dir", "Check a config's output directory (new, --resume, --overwrite) before training."),
    # Component kinds: task types and decoders
    "TaskType": ("mtdnn_core.task_types", "Base of task types (``register_task_types``): labels, batches, decoding."),
    "Decoder": ("mtdnn_core.task_types", "Turns a head's outputs into predictions and scores."),
    "Classification": ("mtdnn_core.task_types.classification", "The built-in classification task type, a base with softmax defaults (1.1)."),
    "SoftmaxDecoder": ("mtdnn_core.task_types.classification", "Class probabilities per row, the most probable class predicted (1.1)."),
    "SequenceLabeling": ("mtdnn_core.task_types.sequence_labeling", "The built-in token-tagging task type, to subclass."),
    "WordStitcher": ("mtdnn_core.task_types.sequence_labeling", "Joins a long sentence's overlapping windows back into words."),
    "MaskedLM": ("mtdnn_core.task_types.masked_lm", "The built-in masked-LM task type (continual pre-training)."),
    "IGNORE_INDEX": ("mtdnn_core.task_types.masked_lm", "The label of positions a masked-LM loss ignores (-100)."),
    # Component kinds: heads, losses, metrics, regularizers, samplers
    "Head": ("mtdnn_core.model.heads", "Base of task heads (``register_heads``)."),
    "PoolerHead": ("mtdnn_core.model.heads", "Built-in head on the pooled first token (classification, regression)."),
    "RankingHead": ("mtdnn_core.model.heads", "Built-in head scoring each candidate (ranking)."),
    "TokenHead": ("mtdnn_core.model.heads", "Built-in head on every token (sequence labeling)."),
    "SANHead": ("mtdnn_core.model.san", "Built-in stochastic answer network head."),
    "HeadExport": ("mtdnn_core.head_export", "What ``export_head`` returns: a head's torch-only source, weights, options."),
    "Loss": ("mtdnn_core.losses", "Base of losses (``register_losses``): ``forward(logits, labels, weights)``."),
    "CrossEntropy": ("mtdnn_core.losses", "Built-in cross-entropy loss."),
    "MeanSquaredError": ("mtdnn_core.losses", "Built-in mean squared error loss."),
    "KLDivergence": ("mtdnn_core.losses", "Built-in KL divergence between logits."),
    "SymmetricKL": ("mtdnn_core.losses", "Built-in symmetric KL divergence between logits."),
    "weighted_mean": ("mtdnn_core.losses", "Mean of per-sample losses with optional sample weights."),
    "kl_divergence": ("mtdnn_core.losses", "Per-sample KL(p || q) from log-probabilities, finite on -inf padding."),
    "Metric": ("mtdnn_core.metrics", "A metric (``register_metrics``): ``fn(golds, preds, scores)`` and its properties."),
    "BUILTIN_METRICS": ("mtdnn_core.metrics", "The built-in metrics by name."),
    "accuracy": ("mtdnn_core.metrics", "Accuracy in percent."),
    "Regularizer": ("mtdnn_core.regularizers", "Base of regularizers (``register_regularizers``): extra loss terms."),
    "RegularizerContext": ("mtdnn_core.regularizers", "What ``Regularizer.setup`` receives: tasks, task types, tokenizer, data, model, ``copy_model`` (1.2)."),
    "full_module_state": ("mtdnn_core.training.sharding", "A module's weights, whole, on the CPU; gathers the shards of an ``--fsdp`` module (every rank calls it; rank 0 gets them, the others an empty dict) (1.2)."),
    "load_full_module_state": ("mtdnn_core.training.sharding", "Load whole weights into a module, sharded (``--fsdp``) or not (1.2)."),
    "RunMode": ("mtdnn_core.regularizers", "How a run trains (torchrun, ``--compile``), as ``Regularizer.check`` reads it."),
    "TaskSampler": ("mtdnn_core.samplers", "Base of multi-task batch schedules (``register_samplers``)."),
    # Component kinds: data formats and tasks
    "DataFormat": ("mtdnn_core.data.formats", "Base of canonical data formats (``register_data_formats``)."),
    "Example": ("mtdnn_core.data.formats", "One example read from a canonical file."),
    "PremiseOnly": ("mtdnn_core.data.formats", "Built-in format: uid, label, text."),
    "PremiseAndOneHypothesis": ("mtdnn_core.data.formats", "Built-in format: uid, label, premise, hypothesis."),
    "Sequence": ("mtdnn_core.data.formats", "Built-in format: uid, tags, words (sequence labeling)."),
    "TextCorpus": ("mtdnn_core.data.corpus", "Built-in format: plain text or JSON lines with text, read as token blocks (masked LM)."),
    "read_tsv_rows": ("mtdnn_core.data.formats", "Rows of a tab-separated file with their line numbers; errors name file and line."),
    "not_utf8": ("mtdnn_core.data.formats", "The :class:`DataError` for a file that is not UTF-8 (file and line)."),
    "check_utf8": ("mtdnn_core.data.formats", "Raise :func:`not_utf8`'s error unless a file is UTF-8, before anything reads it."),
    "Task": ("mtdnn_core.tasks", "A registered task (``register_tasks``): its TaskDef and how its files are found."),
    "canonical_files": ("mtdnn_core.tasks", "A task's canonical split files in a data directory."),
    # Encoders and models
    "EncoderConfig": ("mtdnn_core.model.encoder", "Config model of the built-in encoder loaders."),
    "load_hf_encoder": ("mtdnn_core.model.encoder", "A Hugging Face encoder and tokenizer by name or directory (no download)."),
    "load_tiny_random_bert": ("mtdnn_core.model.encoder", "The tiny random BERT (tests)."),
    "packaged_minilm_path": ("mtdnn_core.model.encoder", "Directory of the packaged all-MiniLM-L6-v2 weights."),
    "accepts_token_type_ids": ("mtdnn_core.model.encoder", "Whether an encoder takes token type ids."),
    "MultiTaskModel": ("mtdnn_core.model.multitask", "The shared encoder with one head per task."),
    "PRETRAINED_NAMES": ("mtdnn_core.model.mlm_head", "The built-in ``mlm`` head's parameters named as in Hugging Face masked-LM models."),
    "build_encoder": ("mtdnn_core.training.setup", "The encoder and tokenizer a :class:`TrainConfig` names."),
    "build_model": ("mtdnn_core.training.setup", "A :class:`MultiTaskModel` for task definitions on an encoder."),
    # Reading a dataset and scoring it
    "encode_file": ("mtdnn_core.data.features", "Read and encode a canonical file into a :class:`TaskDataset`."),
    "TaskDataset": ("mtdnn_core.data.features", "One task's encoded split (features, uids, labels)."),
    "Selection": ("mtdnn_core.data.features", "Which rows of a file to keep (limit, fraction)."),
    "deterministic_subset": ("mtdnn_core.data.features", "The same fraction of examples on every run."),
    "subset_suffix": ("mtdnn_core.training.setup", "The file-name suffix of a data fraction (``_p10``)."),
    "pad_text": ("mtdnn_core.data.batching", "Pad encoded text rows into a batch of tensors."),
    "move_to": ("mtdnn_core.data.batching", "Move a batch (nested dict of tensors) to a device."),
    "predict": ("mtdnn_core.training.evaluate", "Run a model over a dataset: uids, predictions, scores, golds."),
    "compute_metrics": ("mtdnn_core.training.evaluate", "Metrics of a dataset's predictions."),
    "readable_predictions": ("mtdnn_core.training.evaluate", "Predictions as label names, per uid."),
    # Training and checkpoints
    "Trainer": ("mtdnn_core.training.trainer", "Runs a training from a :class:`TrainConfig` and a :class:`PluginHost`."),
    "RunPlan": ("mtdnn_core.training.plan", "What a run trains and scores, validated without a model (``Trainer(plan)``)."),
    "plan_run": ("mtdnn_core.training.plan", "The :class:`RunPlan` of a :class:`TrainConfig`; every problem at once."),
    "ResolvedTask": ("mtdnn_core.training.resolved", "A task's definition with its task type, format, loss and metrics looked up once."),
    "resolve_task": ("mtdnn_core.training.resolved", "A :class:`TaskDef` completed and resolved into a :class:`ResolvedTask`."),
    "pick_device": ("mtdnn_core.training.trainer", "``auto``/``cpu``/``cuda:N`` as a torch device."),
    "resolve_checkpoint": ("mtdnn_core.training.checkpoint", "A run directory, ``RUN:best`` or checkpoint as one complete checkpoint."),
    "read_meta": ("mtdnn_core.training.checkpoint", "A checkpoint's metadata (step, tasks, plugins, config)."),
    "export_encoder": ("mtdnn_core.training.checkpoint", "Save a model's encoder and tokenizer as a Hugging Face directory."),
    "load_for_inference": ("mtdnn_core.training.inference", "Model, tokenizer, task definitions and host of a checkpoint."),
    # Plots
    "line_chart": ("mtdnn_core.plot", "Write a line chart of named series (PNG)."),
    "plot_runs": ("mtdnn_core.plot", "The curves of training runs as charts (what ``mtdnn plot`` writes)."),
}

if TYPE_CHECKING:  # pragma: no cover - the same names, for type checkers and editors
    from mtdnn_core.hookspecs import hookimpl as hookimpl
    from mtdnn_core.plugins import PluginHost as PluginHost
    from mtdnn_core.registry import (
        Registry as Registry,
        Registries as Registries,
        Entry as Entry,
        Origin as Origin,
    )
    from mtdnn_core.observers import (
        StepState as StepState,
        RunStart as RunStart,
        LogRecord as LogRecord,
        TrainSummary as TrainSummary,
        Reporter as Reporter,
    )
    from mtdnn_core.reporting import RunInfo as RunInfo
    from mtdnn_core.errors import (
        MtdnnError as MtdnnError,
        ConfigError as ConfigError,
        DataError as DataError,
        PluginError as PluginError,
        ObserverError as ObserverError,
        UnknownNameError as UnknownNameError,
        did_you_mean as did_you_mean,
    )
    from mtdnn_core.io import (
        atomic_write_bytes as atomic_write_bytes,
        atomic_write_text as atomic_write_text,
        atomic_write_json as atomic_write_json,
        file_sha256 as file_sha256,
        is_write_failure as is_write_failure,
        WriteError as WriteError,
    )
    from mtdnn_core.download import fetch as fetch, read_checksums as read_checksums, safe_extract as safe_extract
    from mtdnn_core.output_paths import (
        check_output as check_output,
        check_default_output as check_default_output,
        OutputPathError as OutputPathError,
        TRAIN_RUN_MARKERS as TRAIN_RUN_MARKERS,
    )
    from mtdnn_core.config import (
        TaskDef as TaskDef,
        TrainConfig as TrainConfig,
        load_yaml as load_yaml,
        parse_task_defs as parse_task_defs,
        load_task_defs as load_task_defs,
        complete_task_def as complete_task_def,
        check_task_defs as check_task_defs,
        build_train_config as build_train_config,
        load_train_config as load_train_config,
    )
    from mtdnn_core.task_settings import TaskDefField as TaskDefField
    from mtdnn_core.cli import main as cli, train as train_command
    from mtdnn_core.train_options import (
        plugin_option as plugin_option,
        strict_option as strict_option,
        train_options as train_options,
        option_specs as option_specs,
        parse_sets as parse_sets,
        split_data_dirs as split_data_dirs,
        config_from_options as config_from_options,
        print_summary as print_summary,
    )
    from mtdnn_core.training.run_dir import settle_output as settle_output
    from mtdnn_core.task_types import TaskType as TaskType, Decoder as Decoder
    from mtdnn_core.task_types.classification import (
        Classification as Classification,
        SoftmaxDecoder as SoftmaxDecoder,
    )
    from mtdnn_core.task_types.sequence_labeling import (
        SequenceLabeling as SequenceLabeling,
        WordStitcher as WordStitcher,
    )
    from mtdnn_core.model.heads import (
        Head as Head,
        PoolerHead as PoolerHead,
        RankingHead as RankingHead,
        TokenHead as TokenHead,
    )
    from mtdnn_core.model.san import SANHead as SANHead
    from mtdnn_core.head_export import HeadExport as HeadExport
    from mtdnn_core.losses import (
        Loss as Loss,
        CrossEntropy as CrossEntropy,
        MeanSquaredError as MeanSquaredError,
        KLDivergence as KLDivergence,
        SymmetricKL as SymmetricKL,
        weighted_mean as weighted_mean,
        kl_divergence as kl_divergence,
    )
    from mtdnn_core.metrics import Metric as Metric, BUILTIN_METRICS as BUILTIN_METRICS, accuracy as accuracy
    from mtdnn_core.regularizers import (
        Regularizer as Regularizer,
        RegularizerContext as RegularizerContext,
        RunMode as RunMode,
    )
    from mtdnn_core.training.sharding import (
        full_module_state as full_module_state,
        load_full_module_state as load_full_module_state,
    )
    from mtdnn_core.samplers import TaskSampler as TaskSampler
    from mtdnn_core.data.formats import (
        DataFormat as DataFormat,
        Example as Example,
        PremiseOnly as PremiseOnly,
        PremiseAndOneHypothesis as PremiseAndOneHypothesis,
        Sequence as Sequence,
        read_tsv_rows as read_tsv_rows,
        not_utf8 as not_utf8,
        check_utf8 as check_utf8,
    )
    from mtdnn_core.tasks import Task as Task, canonical_files as canonical_files
    from mtdnn_core.model.encoder import (
        EncoderConfig as EncoderConfig,
        load_hf_encoder as load_hf_encoder,
        load_tiny_random_bert as load_tiny_random_bert,
        packaged_minilm_path as packaged_minilm_path,
        accepts_token_type_ids as accepts_token_type_ids,
    )
    from mtdnn_core.model.multitask import MultiTaskModel as MultiTaskModel
    from mtdnn_core.model.mlm_head import PRETRAINED_NAMES as PRETRAINED_NAMES
    from mtdnn_core.training.setup import build_encoder as build_encoder, build_model as build_model
    from mtdnn_core.data.features import (
        encode_file as encode_file,
        TaskDataset as TaskDataset,
        Selection as Selection,
        deterministic_subset as deterministic_subset,
    )
    from mtdnn_core.training.setup import subset_suffix as subset_suffix
    from mtdnn_core.data.batching import pad_text as pad_text, move_to as move_to
    from mtdnn_core.training.evaluate import (
        predict as predict,
        compute_metrics as compute_metrics,
        readable_predictions as readable_predictions,
    )
    from mtdnn_core.training.trainer import Trainer as Trainer, pick_device as pick_device
    from mtdnn_core.training.plan import RunPlan as RunPlan, plan_run as plan_run
    from mtdnn_core.training.resolved import ResolvedTask as ResolvedTask, resolve_task as resolve_task
    from mtdnn_core.training.checkpoint import (
        resolve_checkpoint as resolve_checkpoint,
        read_meta as read_meta,
        export_encoder as export_encoder,
    )
    from mtdnn_core.training.inference import load_for_inference as load_for_inference
    from mtdnn_core.plot import line_chart as line_chart, plot_runs as plot_runs
    from mtdnn_core.task_types.masked_lm import MaskedLM as MaskedLM
    from mtdnn_core.task_types.masked_lm import IGNORE_INDEX as IGNORE_INDEX
    from mtdnn_core.data.corpus import TextCorpus as TextCorpus

__all__ = [
    "API_VERSION",
    "hookimpl",
    "PluginHost",
    "Registry",
    "Registries",
    "Entry",
    "Origin",
    "StepState",
    "RunStart",
    "LogRecord",
    "TrainSummary",
    "Reporter",
    "RunInfo",
    "MtdnnError",
    "ConfigError",
    "DataError",
    "PluginError",
    "ObserverError",
    "UnknownNameError",
    "did_you_mean",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_write_json",
    "file_sha256",
    "is_write_failure",
    "WriteError",
    "fetch",
    "read_checksums",
    "safe_extract",
    "check_output",
    "check_default_output",
    "OutputPathError",
    "TRAIN_RUN_MARKERS",
    "TaskDef",
    "TaskDefField",
    "TrainConfig",
    "load_yaml",
    "parse_task_defs",
    "load_task_defs",
    "complete_task_def",
    "check_task_defs",
    "build_train_config",
    "load_train_config",
    "cli",
    "train_command",
    "plugin_option",
    "strict_option",
    "train_options",
    "option_specs",
    "parse_sets",
    "split_data_dirs",
    "config_from_options",
    "print_summary",
    "settle_output",
    "TaskType",
    "Decoder",
    "Classification",
    "SoftmaxDecoder",
    "SequenceLabeling",
    "WordStitcher",
    "MaskedLM",
    "IGNORE_INDEX",
    "Head",
    "PoolerHead",
    "RankingHead",
    "TokenHead",
    "SANHead",
    "HeadExport",
    "Loss",
    "CrossEntropy",
    "MeanSquaredError",
    "KLDivergence",
    "SymmetricKL",
    "weighted_mean",
    "kl_divergence",
    "Metric",
    "BUILTIN_METRICS",
    "accuracy",
    "Regularizer",
    "RegularizerContext",
    "full_module_state",
    "load_full_module_state",
    "RunMode",
    "TaskSampler",
    "DataFormat",
    "Example",
    "PremiseOnly",
    "PremiseAndOneHypothesis",
    "Sequence",
    "TextCorpus",
    "read_tsv_rows",
    "not_utf8",
    "check_utf8",
    "Task",
    "canonical_files",
    "EncoderConfig",
    "load_hf_encoder",
    "load_tiny_random_bert",
    "packaged_minilm_path",
    "accepts_token_type_ids",
    "MultiTaskModel",
    "PRETRAINED_NAMES",
    "build_encoder",
    "build_model",
    "encode_file",
    "TaskDataset",
    "Selection",
    "deterministic_subset",
    "subset_suffix",
    "pad_text",
    "move_to",
    "predict",
    "compute_metrics",
    "readable_predictions",
    "Trainer",
    "RunPlan",
    "plan_run",
    "ResolvedTask",
    "resolve_task",
    "pick_device",
    "resolve_checkpoint",
    "read_meta",
    "export_encoder",
    "load_for_inference",
    "line_chart",
    "plot_runs",
]


def __getattr__(name: str) -> Any:
    """Import a name's module on first use and cache the name here."""
    try:
        target, _ = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"mtdnn_core.api has no name {name!r} (see docs/api.md)") from None
    module, _, attribute = target.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
