"""pytest fixtures for plugin authors (installed as a pytest plugin with mtdnn-core).

* ``mtdnn_host(*plugins)``: a fresh, strict plugin host with the built-ins and the given plugin
  objects (modules or instances with ``@hookimpl`` functions) and no installed entry points,
  so a test never depends on what happens to be installed.
* ``file_server``: a local HTTP server (range requests) for testing download code.
* ``tiny_train_config(**overrides)``: a :class:`TrainConfig` for a few CPU steps with the tiny
  random encoder.
* ``nan_loss_plugin(calls)`` / ``nan_loss_task_file(folder)``: a loss that is NaN at the given
  call numbers, and an RTE task definition that uses it (for testing non-finite handling).
* ``interrupt_at(step)``: a plugin that raises :class:`Interrupt` (a Ctrl-C) after that
  update, a run cut short in process (for testing resume).
* ``tiny_tasks`` / ``write_tiny_tasks(folder)``: a task file with two small tasks (``pair``, a
  sentence-pair classification; ``reg``, a sentence-pair regression) and their canonical
  train/dev files, so training tests need neither a data set nor a plugin.
* ``installed_plugin(name, source, version)``: a plugin installed for the test (a distribution
  with an ``mtdnn`` entry point on ``sys.path``), for testing discovery, selection and
  version checks without installing a real one.
* ``snapshot_files(*roots)`` / ``assert_unchanged(before)``: every file's bytes before a command,
  and the check that none was removed or changed after it; ``cli_refuses(args, *pieces)``: run
  the ``mtdnn`` CLI in process and check that it refused (exit 2, a message, no traceback) naming
  every piece.
* ``run_cli(args, processes)``: run ``mtdnn ARGS`` in a new process, or under torchrun with
  ``processes`` CPU ranks (Gloo), offline; ``final_weights(run_dir)``: the latest checkpoint's
  weights (for comparing a torchrun run with one process).
* Real data sets (GLUE, CoNLL-2003, HNN, masked-LM text, SQuAD samples) live outside the
  repository, in ``$MTDNN_TEST_DATA`` (default: ``../shared/data`` beside the repository).
  Tests reach them through the ``shared_data`` and ``glue_dir`` fixtures, ``real_data(*parts)`` or the marker
  ``@pytest.mark.real_data(*parts)``; each skips the test, with one line saying what is missing
  and where to point the variable, when the data are not there.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

TEST_DATA_ENV = "MTDNN_TEST_DATA"
DATA_SETS = "glue/, conll2003/, hnn/, mlm/, squad/"


def real_data_dir() -> Path:
    """Where the real data sets are: ``$MTDNN_TEST_DATA``, else ``shared/data`` beside the
    repository (the directory above the one holding ``mtdnn_core``)."""
    value = os.environ.get(TEST_DATA_ENV)
    return Path(value).expanduser() if value else Path(__file__).resolve().parents[2] / "shared" / "data"


def missing_data(*parts: str) -> str | None:
    """Why ``real_data_dir()/parts`` cannot be used (one line), or None when it is there."""
    path = real_data_dir().joinpath(*parts)
    if path.exists():
        return None
    return (f"real data set {path} not found: set {TEST_DATA_ENV} to the folder holding {DATA_SETS} "
            f"(README.md, 'Tests and the real data sets')")


def real_data(*parts: str) -> Path:
    """``real_data_dir()/parts``, or skip the calling test (or fixture) when it is missing."""
    reason = missing_data(*parts)
    if reason is not None:
        pytest.skip(reason)
    return real_data_dir().joinpath(*parts)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "real_data(*parts): the test reads real_data_dir()/parts; skipped when missing")


def pytest_runtest_setup(item) -> None:
    for mark in item.iter_markers("real_data"):
        reason = missing_data(*mark.args)
        if reason is not None:
            pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real data sets (``$MTDNN_TEST_DATA``); the test is skipped without it."""
    root = real_data()
    if not any(root.iterdir()):
        pytest.skip(f"real data sets not found: {root} is empty; set {TEST_DATA_ENV} to the folder holding {DATA_SETS} "
                    f"(README.md, 'Tests and the real data sets')")
    return root


@pytest.fixture(scope="session")
def glue_dir(shared_data) -> Path:
    """The GLUE distribution (``glue/RTE/train.tsv``, ...) of the real data sets."""
    return real_data("glue")


def make_host(*plugins: Any, entry_points: tuple[str, ...] = ()):
    from mtdnn_core.plugins import PluginHost

    host = PluginHost(list(entry_points), strict=True)
    for i, plugin in enumerate(plugins):
        host.add_plugin(plugin, name=getattr(plugin, "__name__", f"test-plugin-{i}"))
    return host


class Interrupt(KeyboardInterrupt):
    """Raised by :func:`interrupt_at`'s plugin: a Ctrl-C at a chosen update."""


def interrupt_at(step: int):
    """A plugin whose ``on_step_end`` raises :class:`Interrupt` once update ``step`` is done."""
    import types

    from mtdnn_core import hookimpl

    plugin = types.ModuleType("interrupter")

    def on_step_end(state):
        if state.step == step:
            raise Interrupt

    plugin.on_step_end = hookimpl(on_step_end)
    return plugin


def nan_loss_plugin(nan_calls: set[int]):
    """A plugin registering ``nan_ce``: cross-entropy that is NaN at the given (1-based) calls."""
    import types

    from mtdnn_core import hookimpl
    from mtdnn_core.losses import CrossEntropy

    plugin = types.ModuleType("nanloss")
    calls = {"n": 0}

    class SometimesNaN(CrossEntropy):
        def forward(self, logits, target, weights=None):
            calls["n"] += 1
            loss = super().forward(logits, target, weights)
            return loss * float("nan") if calls["n"] in nan_calls else loss

    plugin.register_losses = hookimpl(lambda registry: registry.add("nan_ce", SometimesNaN))
    return plugin


def nan_loss_task_file(folder) -> str:
    """An RTE task definition (canonical TSV rows) whose loss is ``nan_ce``."""
    from pathlib import Path

    path = Path(folder) / "tasks.yml"
    path.write_text("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n"
                    "  labels: [not_entailment, entailment]\n  loss: nan_ce\n")
    return str(path)


TINY_TASKS = """\
pair:
  data_format: PremiseAndOneHypothesis
  task_type: Classification
  labels: ['no', 'yes']
reg:
  data_format: PremiseAndOneHypothesis
  task_type: Regression
"""
_WORDS = ("a man the dog sleeps runs cat sits near house green old walks home film good bad quiet loud "
          "child reads book river town eats bread").split()


def write_tiny_tasks(folder, rows: int = 48, test: bool = False):
    """``folder/tasks.yml`` (tasks ``pair`` and ``reg``) and canonical ``folder/data/{task}_{train,dev}.tsv``
    with ``rows`` deterministic rows each; ``test``: also ``pair_test.tsv``, the dev rows without
    labels. Returns ``(task file, data directory)``."""
    folder = Path(folder)
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    tasks = folder / "tasks.yml"
    tasks.write_text(TINY_TASKS, encoding="utf-8")

    def sentence(i: int, k: int) -> str:
        return " ".join(_WORDS[(i * 7 + k * 3 + j * 5) % len(_WORDS)] for j in range(3 + (i + k) % 4))

    for split, offset in (("train", 0), ("dev", 1000)):
        pair = [f"{split}{i}\t{'yes' if i % 3 else 'no'}\t{sentence(i + offset, 0)}\t{sentence(i + offset, 1)}"
                for i in range(rows)]
        reg = [f"{split}{i}\t{(i * 37 % 50) / 10:.1f}\t{sentence(i + offset, 2)}\t{sentence(i + offset, 3)}"
               for i in range(rows)]
        (data / f"pair_{split}.tsv").write_text("\n".join(pair) + "\n", encoding="utf-8")
        (data / f"reg_{split}.tsv").write_text("\n".join(reg) + "\n", encoding="utf-8")
    if test:
        unlabeled = [f"test{i}\t\t{sentence(i + 1000, 0)}\t{sentence(i + 1000, 1)}" for i in range(rows)]
        (data / "pair_test.tsv").write_text("\n".join(unlabeled) + "\n", encoding="utf-8")
    return tasks, data


@pytest.fixture
def tiny_tasks(tmp_path):
    """``(task file, data directory)`` of :func:`write_tiny_tasks` in the test's temporary folder."""
    return write_tiny_tasks(tmp_path / "tiny_tasks")


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """``add(name, source, version="1.0")``: install, for this test only, a distribution
    ``mtdnn-test-NAME`` whose ``mtdnn`` entry point ``NAME`` is a module with ``source`` (which
    may use ``hookimpl`` without importing it). Returns the entry point's name."""
    import importlib

    site = tmp_path / "site-packages"
    site.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))

    def add(name: str, source: str, version: str = "1.0") -> str:
        module = f"mtdnn_test_{name.replace('-', '_')}"
        dist = site / f"mtdnn_test_{name.replace('-', '_')}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: mtdnn-test-{name}\nVersion: {version}\n")
        (dist / "entry_points.txt").write_text(f"[mtdnn]\n{name} = {module}\n")
        (site / f"{module}.py").write_text("from mtdnn_core import hookimpl\n\n" + source)
        monkeypatch.delitem(sys.modules, module, raising=False)
        importlib.invalidate_caches()
        return name

    return add


@pytest.fixture
def mtdnn_host():
    return make_host


@pytest.fixture
def tiny_train_config(tmp_path):
    from mtdnn_core.config import TrainConfig

    def build(**overrides: Any) -> TrainConfig:
        base = dict(encoder="tiny-random-bert", output_dir=str(tmp_path / "run"), epochs=1, batch_size=8,
                    eval_batch_size=32, max_seq_len=64, lr=1e-3, num_threads=2, device="cpu")
        base.update(overrides)
        return TrainConfig(**base)

    return build


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """The uncased WordPiece tokenizer of the tiny random encoder (offline)."""
    from mtdnn_core.model.encoder import load_tiny_random_bert

    return load_tiny_random_bert()[1]


def _range_handler(root: str, requests: list):
    """A handler serving ``root`` with HTTP range support, recording (path, Range header)."""
    import http.server
    from pathlib import Path

    class RangeHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            path = Path(root) / self.path.lstrip("/")
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            header = self.headers.get("Range")
            requests.append((self.path, header))
            start = 0
            if header:
                start = int(header.split("=")[1].split("-")[0])
                if start >= len(data):  # as real servers answer a range past the end
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

    return RangeHandler


@pytest.fixture
def file_server(tmp_path):
    """A local HTTP server for download code: files put in ``.root`` are served at ``.url``
    (range requests honoured, for resumed transfers; a range past the end is answered 416);
    ``.requests`` lists (path, Range header)."""
    import http.server
    import threading
    from types import SimpleNamespace

    root = tmp_path / "www"
    root.mkdir()
    requests: list = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _range_handler(str(root), requests))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield SimpleNamespace(root=root, url=f"http://127.0.0.1:{httpd.server_address[1]}", requests=requests)
    httpd.shutdown()
    httpd.server_close()


def snapshot_files(*roots: Path) -> dict[Path, bytes]:
    """Every file below ``roots`` (or the file itself) with its bytes, to compare after a command."""
    files = {}
    for root in map(Path, roots):
        for path in ([root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())):
            files[path] = path.read_bytes()
    return files


def assert_unchanged(before: dict[Path, bytes]) -> None:
    """No file of a :func:`snapshot_files` snapshot was removed or changed."""
    for path, data in before.items():
        assert path.is_file(), f"{path} was removed"
        assert path.read_bytes() == data, f"{path} was changed"


def cli_refuses(args, *pieces: Any, code: int = 2) -> str:
    """Run ``mtdnn ARGS`` in process; assert that it stopped with ``code`` and a message (no
    traceback) that contains every piece (compared as strings). Returns the output."""
    from click.testing import CliRunner

    from mtdnn_core.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    for piece in pieces:
        assert str(piece) in result.output, f"{piece!r} not in:\n{result.output}"
    return result.output


def run_cli(args, processes: int = 1, env: dict | None = None, timeout: float = 900):
    """``mtdnn ARGS`` in a new process (``processes`` > 1: under torchrun, one rank per process);
    the finished :class:`subprocess.CompletedProcess` (text output captured)."""
    import subprocess

    cli = ["-m", "mtdnn_core.cli", *map(str, args)]
    if processes > 1:
        cli = ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *cli]
    # PYTHONFAULTHANDLER: a crash in native code (a rank killed by SIGSEGV or SIGABRT) prints every
    # thread's Python stack, so a failed test says where
    return subprocess.run([sys.executable, *cli], env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONFAULTHANDLER": "1",
                                                       **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def crash_signals(done) -> list[int]:
    """The signals that killed ranks of a finished torchrun (its failure summary's negative exit
    codes), except SIGTERM, which torchrun sends the other ranks once one has failed."""
    import re
    import signal

    return [int(n) for n in re.findall(r"exitcode\s*:\s*-(\d+)", done.stderr) if int(n) != signal.SIGTERM]


def run_sharded_cli(args, out, processes: int = 2, env: dict | None = None):
    """A torchrun ``--fsdp`` run (``args`` include ``--output-dir out``) that a test needs to
    succeed. PyTorch's FSDP over Gloo has killed a rank in its own code twice (SIGSEGV, SIGABRT),
    not reproduced in 50 runs since (docs/distributed.md): such a crash is reported as a warning
    with the ranks' stacks and the run tried once more, resumed from its newest checkpoint where it
    wrote one (so a test of exactness still checks the result). Returns the finished process."""
    import shutil
    import warnings

    done = run_cli(args, processes, env)
    if done.returncode and crash_signals(done):
        warnings.warn(f"--fsdp run: a rank was killed by signal {crash_signals(done)}; tried again\n{failure_report(done)}")
        args = list(map(str, args))
        if (Path(out) / "latest.json").is_file():
            args += [] if "--resume" in args else ["--resume", str(out)]
        else:
            shutil.rmtree(out, ignore_errors=True)
        done = run_cli(args, processes, env)
    return done


def failure_report(done, tail: int = 3000) -> str:
    """What a failed run printed that says why: each rank's error and fatal-error lines (a rank's
    own traceback can lie far above the launcher's summary), then the end of its output."""
    keys = ("Fatal Python error", "terminate called", "what():", "Error:", "Current thread", 'File "')
    lines = [line for line in done.stderr.splitlines() if any(k in line for k in keys)]
    return "\n".join(lines[-60:]) + "\n...\n" + done.stderr[-tail:]


def final_weights(run_dir) -> dict:
    """The weights of a run's latest checkpoint, by parameter name."""
    import json

    from safetensors.torch import load_file

    latest = json.loads((Path(run_dir) / "latest.json").read_text())
    return load_file(Path(run_dir) / latest["checkpoint"] / "model.safetensors")
