"""Reporters: where a training run's numbers go besides its own files.

A reporter is a class registered under a name (``register_reporters``) and built once per run
that lists the name in ``report_to``. Its ``@hookimpl`` methods are the ordinary observer hooks
(``on_train_begin``, ``on_step_end``, ``on_log``, ``on_evaluate``, ``on_train_end``), attached
to the run's plugin host for the run's duration only, so a TensorBoard, W&B or MLflow reporter
is a few lines in any plugin. Built in: ``jsonl`` (the run's ``log.jsonl``, on by default) and
``tensorboard`` (``pip install 'mtdnn-core[tensorboard]'``).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mtdnn_core.errors import ConfigError, MtdnnError, ObserverError, PluginError


@dataclass(frozen=True)
class RunInfo:
    """What a reporter knows when it is built: where the run writes, its settings and tasks."""

    output_dir: Path
    config: Any  # the run's TrainConfig
    tasks: dict[str, Any] = field(default_factory=dict)  # name -> TaskDef


def build_reporters(names: list[str], registry: Any, run: RunInfo) -> list[tuple[str, Any]]:
    """Build the reporters ``names`` (unknown names are one error listing every problem)."""
    problems = []
    for name in names:
        if name not in registry:
            try:
                registry.get(name)
            except KeyError as exc:
                problems.append(f"report_to: {exc}")
    if problems:
        raise ConfigError(problems, "report_to")
    return [(name, _build(name, registry.get(name), run)) for name in dict.fromkeys(names)]


def _build(name: str, entry: Any, run: RunInfo) -> Any:
    """A reporter that cannot be built is an error naming it and its plugin, before training."""
    try:
        return entry.factory(run)
    except MtdnnError:
        raise
    except Exception as exc:  # noqa: BLE001 - any plugin's failure, named
        raise PluginError(f"{entry.origin}: reporter '{name}' could not be built: {type(exc).__name__}: {exc}") from exc


@contextlib.contextmanager
def attached(host: Any, reporters: list[tuple[str, Any]]) -> Iterator[None]:
    """The reporters observe ``host``'s hooks inside the block; afterwards (also after an error)
    they are detached and closed, every one even if another's ``close`` fails; a failed
    ``close`` is an :class:`ObserverError` naming the reporter, unless an error is already
    on its way (which it must not hide)."""
    done = []
    pending: BaseException | None = None
    try:
        for name, reporter in reporters:
            host.attach(reporter, name=f"reporter:{name}")
            done.append(reporter)
        yield
    except BaseException as exc:
        pending = exc
        raise
    finally:
        for reporter in reversed(done):
            host.detach(reporter)
        failed = None
        for name, reporter in reporters:
            close = getattr(reporter, "close", None)
            try:
                if callable(close):
                    close()
            except Exception as exc:  # noqa: BLE001 - any reporter's failure, named
                failed = failed or ObserverError(f"reporter:{name}", "close", exc)
        if failed is not None and pending is None:
            raise failed
