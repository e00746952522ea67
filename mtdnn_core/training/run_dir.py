"""The run's output directory: checked before any heavy work, never silently reused.

* A directory that already holds a run is refused unless the run is resumed (``--resume``) or
  replaced (``--overwrite``, which removes the old run's files first).
* A resume continues exactly or not at all: settings that change what the remaining steps do
  (learning rate, batch size, tasks, seed, ...) are refused, listed with old and new values;
  settings that only change bookkeeping (evaluation and checkpoint frequency, workers, threads,
  device) may change.
* ``log.jsonl`` keeps one record per step: records a resumed run replays are dropped.
* ``--resume RUN`` continues in RUN: without ``--output-dir`` the run's own directory is the
  output, and another ``--output-dir`` is refused (it would mix two runs' files).
* ``--resume RUN`` alone continues with the configuration saved in RUN's checkpoint (tasks,
  plugins, data, every setting); options given with it change that configuration, and the rules
  above decide whether they may.
* The output directory never is, contains or lies inside an input (data, task definitions,
  config, a local encoder), and is never a dangling symbolic link.
* One writer at a time: the training process holds a lock on the directory (``flock``, released
  by the kernel however the process ends), so a second run or resume in it is refused while the
  first still writes, e.g. ranks left running after their torchrun was killed.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

from mtdnn_core.errors import ConfigError, MtdnnError
from mtdnn_core.io import atomic_write_text
from mtdnn_core.output_paths import check_output, same_path

RUN_FILES = ("latest.json", "best.json", "log.jsonl", "metrics.json", "summary.json", "config.json")
RUN_DIRS = ("scores", "tensorboard")
#: settings a resumed run may change: they do not alter the remaining training steps
RESUMABLE_CHANGES = frozenset({
    "eval_every", "save_every", "keep_checkpoints", "log_every", "num_workers", "eval_batch_size", "max_eval_samples",
    "num_threads", "device", "max_nonfinite_in_row", "cache_dir", "output_dir", "overwrite", "resume", "plugins",
    "report_to", "metric_for_best", "early_stopping", "compile", "compile_mode", "compile_backend",
})


def holds_a_run(directory: Path) -> bool:
    directory = Path(directory)
    return any((directory / name).exists() for name in RUN_FILES) or any(directory.glob("checkpoint-*"))


def check(directory: str | Path, resume: bool | None = None, overwrite: bool = False) -> None:
    """Problems with the output directory, found before any model is loaded: a file in its way,
    no permission to write, or (``resume`` given as False) an existing run that would be reused."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise MtdnnError(f"--output-dir {directory}: exists and is not a directory; choose another path")
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise MtdnnError(f"--output-dir {directory}: {existing} is not writable; choose another directory")
    if resume is False and not overwrite and holds_a_run(directory):
        raise MtdnnError(f"--output-dir {directory}: already holds a run (log.jsonl, checkpoints); continue it with "
                         f"--resume {directory}, replace it with --overwrite, or choose another directory")


def run_of(resume: str | Path) -> Path:
    """The run directory a ``--resume`` value (a run, ``RUN:best`` or one of its checkpoints) continues."""
    text = str(resume)
    path = Path(text[: -len(":best")] if text.endswith(":best") else text)
    if path.name.startswith("checkpoint-") or (path / "state.json").is_file():
        return path.parent
    return path


#: settings of a saved configuration that belong to the run being started, not to the one resumed
NOT_CARRIED = ("output_dir", "resume", "overwrite")


def saved_config(resume: str | Path) -> tuple[dict[str, Any], Path]:
    """The configuration the run ``resume`` names was trained with (its checkpoint's
    ``state.json``), without the settings that only say where and how this run starts: what
    ``--resume RUN`` alone continues with. Returns it and the ``state.json`` it came from."""
    import warnings

    from mtdnn_core.training.checkpoint import read_meta, resolve_checkpoint

    with warnings.catch_warnings():  # a fallback to an older checkpoint is reported when the run is restored
        warnings.simplefilter("ignore")
        checkpoint = resolve_checkpoint(resume)
    saved = {k: v for k, v in read_meta(checkpoint)["config"].items() if k not in NOT_CARRIED}
    return saved, checkpoint / "state.json"


def settle_output(config: Any, config_file: str | Path | None = None, inputs: list[tuple[str, Any]] = ()) -> Any:
    """The config with the output directory a run must use, checked: a resumed run continues in
    its own directory; the output never endangers an input (``inputs``: further ``(option,
    path)`` pairs a command reads). Returns the (updated) config."""
    if config.resume:
        import warnings

        from mtdnn_core.training.checkpoint import resolve_checkpoint

        with warnings.catch_warnings():  # a fallback is reported when the run is restored
            warnings.simplefilter("ignore")
            resolve_checkpoint(config.resume)  # a --resume that names no run fails first, as itself
        run = run_of(config.resume)
        if "output_dir" in config.model_fields_set and not same_path(config.output_dir, run):
            raise MtdnnError(f"--output-dir {config.output_dir} is not the run --resume {config.resume} continues "
                             f"({run}); a resumed run is written where it was: drop --output-dir (and output_dir "
                             f"of --config; or give --output-dir {run}), or start a new run without --resume")
        config = config.model_copy(update={"output_dir": str(run)})
    inputs = [*inputs, ("--data-dir", config.data_dir),
              *(("--data-dir", d) for d in (config.task_data_dirs or {}).values()),
              *(("--task-def", d) for d in config.task_def), ("--encoder", config.encoder)]
    if not config.resume:
        inputs.append(("--config", config_file))
    check_output(config.output_dir, inputs, option="--output-dir", directory=True)
    check(config.output_dir, resume=bool(config.resume), overwrite=config.overwrite)
    return config


_CLAIMED: set[int] = set()  # descriptors of this process's claims; a forked child closes its copies


def _close_claims_in_child() -> None:
    """A forked child (a DataLoader worker) would keep the claim until it exits too."""
    for fd in list(_CLAIMED):
        try:
            os.close(fd)
        except OSError:
            pass
    _CLAIMED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_claims_in_child)


class Claim:
    """This process's exclusive hold on a run directory (an ``flock`` on the directory itself:
    no file is made, and the kernel drops it when the process ends, even by ``kill -9``). Where
    the system or file system has no such lock (Windows, some network mounts) the run goes on
    unguarded, with a warning. A context manager; :meth:`release` lets go."""

    def __init__(self, directory: Path):
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:  # not a POSIX system
            _unguarded(directory, "this system has no flock")
            return
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError as exc:
            _unguarded(directory, exc.strerror or str(exc))
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise MtdnnError(
                    f"--output-dir {directory}: another process is writing a run there now (a training or resume "
                    f"still running, or torchrun ranks left running after torchrun was killed: see `pgrep -af mtdnn`); "
                    f"wait for it to end or stop it, then start again") from None
            _unguarded(directory, exc.strerror or str(exc))
            return
        self.fd = fd
        _CLAIMED.add(fd)

    def release(self) -> None:
        if self.fd is not None:
            _CLAIMED.discard(self.fd)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "Claim":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


def _unguarded(directory: Path, why: str) -> None:
    import logging

    logging.getLogger("mtdnn").warning(f"--output-dir {directory}: cannot lock it ({why}); nothing stops another "
                                       f"process from writing a run there at the same time")


def check_not_claimed(directory: str | Path) -> None:
    """Stop now if another process holds the run directory (a cheap early look: the run claims
    it for good when training starts)."""
    directory = Path(os.path.abspath(directory))  # runs/new/../a: looked at without making runs/new
    if directory.is_dir():
        Claim(directory).release()


def prepare(directory: str | Path, resume: bool, overwrite: bool) -> Claim:
    """Check (and create) the output directory when training starts and claim it for this
    process (released with :meth:`Claim.release` or when the process ends); ``overwrite``
    removes an existing run's files first, once the directory is claimed."""
    directory = Path(directory)
    check(directory, resume, overwrite)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MtdnnError(f"--output-dir {directory}: cannot write there ({exc.strerror}); choose another directory") from None
    claim = Claim(directory)
    try:
        _clear_for_a_new_run(directory, resume)
    except BaseException:
        claim.release()
        raise
    return claim


def _clear_for_a_new_run(directory: Path, resume: bool) -> None:
    """With ``--overwrite`` (checked before): the old run's files go; then a write probe."""
    if holds_a_run(directory) and not resume:
        for name in RUN_FILES:
            (directory / name).unlink(missing_ok=True)
        for path in [*directory.glob("checkpoint-*"), *directory.glob(".checkpoint-*"), *(directory / d for d in RUN_DIRS)]:
            shutil.rmtree(path, ignore_errors=True)
    try:
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise MtdnnError(f"--output-dir {directory}: cannot write there ({exc.strerror}); choose another directory") from None


def check_resume(saved: dict[str, Any], current: dict[str, Any], checkpoint: Path) -> None:
    """Refuse to resume with settings that would make the continuation differ from the run."""
    from mtdnn_core.config import as_read_now

    changed = [f"{key}: {saved.get(key)!r} -> {current.get(key)!r}" for key in sorted(set(saved) | set(current))
               if key not in RESUMABLE_CHANGES and key in saved and as_read_now(saved.get(key)) != current.get(key)]
    if changed:
        raise ConfigError(
            [*changed, f"these settings differ from {checkpoint / 'state.json'} and would not continue the run exactly; "
                       f"resume with the checkpoint's values (only {', '.join(sorted(RESUMABLE_CHANGES - {'resume', 'overwrite', 'output_dir'}))} "
                       f"may change) or start a new run in another --output-dir"],
            "--resume",
        )


def truncate_log(directory: Path, step: int) -> int:
    """Drop log records of steps after ``step`` (a resumed run logs them again); return how many."""
    path = Path(directory) / "log.jsonl"
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:  # a line cut by a crash
            dropped += 1
            continue
        if isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] > step:
            dropped += 1
            continue
        kept.append(line)
    if dropped:
        atomic_write_text(path, "".join(f"{line}\n" for line in kept))
    return dropped
