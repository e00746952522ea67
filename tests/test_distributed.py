"""Data-parallel training with torchrun on the CPU (Gloo, 2 processes)."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from mtdnn_core.testing import crash_signals, failure_report, final_weights, run_cli, run_sharded_cli, write_tiny_tasks
from mtdnn_core.training.distributed import Distributed

ARGS = ["train", "--tasks", "pair,reg", "--encoder", "tiny-random-bert", "--max-seq-len", "32",
        "--batch-size", "8", "--max-train-samples", "40", "--max-eval-samples", "21", "--epochs", "2", "--lr", "1e-3",
        "--num-threads", "1", "--device", "cpu", "--no-progress", "--save-every", "4",
        # no dropout anywhere: two ranks then compute exactly what one process computes on the whole batch
        "--set", "encoder_config={dropout: 0.0}", "--set", "task_overrides={pair: {dropout_p: 0.0, enable_san: false}, reg: {dropout_p: 0.0}}"]


def test_each_rank_takes_a_disjoint_share_of_every_batch(monkeypatch):
    for size in (1, 2, 3, 7, 8):
        batch = list(range(100, 100 + size))
        seen, total = [], 0.0
        for rank in range(2):
            monkeypatch.setenv("WORLD_SIZE", "2")
            monkeypatch.setenv("RANK", str(rank))
            rows, weight = Distributed().shard(batch)
            if weight:
                seen += rows
            total += weight / 2  # gradients are averaged over the 2 ranks
        assert sorted(seen) == batch  # every row once, none twice
        # rank r's loss is the mean of its n_r rows times n_r * 2 / size: averaged over ranks, each row
        # counts 1 / size, as in the one-process mean; so the weights average to exactly 1
        assert total == pytest.approx(1.0)


def test_a_rank_killed_by_a_signal_is_told_apart_from_one_that_torchrun_stopped():
    from subprocess import CompletedProcess

    summary = """Traceback (most recent call last):
  File "/x/trainer.py", line 12, in save
[rank0]: RuntimeError: Connection closed by peer [127.0.0.1]:18323.
Failures:
[1]:
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 20117)  (SIGTERM)
Root Cause (first observed failure):
[0]:
  rank      : 1 (local_rank: 1)
  exitcode  : -6 (pid: 20118)  (SIGABRT)
"""
    done = CompletedProcess([], 1, "", summary)
    assert crash_signals(done) == [6]  # SIGTERM is torchrun stopping the other rank
    assert crash_signals(CompletedProcess([], 1, "", "ValueError: bad\n  exitcode  : 1 (pid: 3)")) == []
    report = failure_report(done, tail=10)
    assert "[rank0]: RuntimeError: Connection closed" in report and 'File "/x/trainer.py"' in report


def run(out, tasks, processes, *extra, kill=None, env=None):
    task_def, data = tasks
    return run_cli([*ARGS, "--task-def", task_def, "--data-dir", data, "--output-dir", out, *extra], processes,
                   env={"KILL_AT": kill or "", **(env or {})})


weights = final_weights


def run_sharded(out, tasks, *extra):
    """A 2-rank ``--fsdp`` run that must succeed (tried once more after a crash inside PyTorch:
    :func:`~mtdnn_core.testing.run_sharded_cli`)."""
    task_def, data = tasks
    done = run_sharded_cli([*ARGS, "--task-def", task_def, "--data-dir", data, "--output-dir", out, "--fsdp", *extra], out,
                           env={"KILL_AT": ""})
    assert done.returncode == 0, failure_report(done)
    return done


@pytest.fixture(scope="module")
def tasks(tmp_path_factory):
    """The tiny canonical tasks, with a test split (evaluated and gathered like dev)."""
    task_def, data = write_tiny_tasks(tmp_path_factory.mktemp("tasks"))
    (data / "pair_test.tsv").write_bytes((data / "pair_dev.tsv").read_bytes())
    return task_def, data


STEP_LOG = """
import json, os
from mtdnn_core import hookimpl

@hookimpl
def on_step_end(state):
    with open(os.environ["STEP_LOG"], "a") as f:
        f.write(json.dumps([state.step, state.loss]) + "\\n")
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tasks):
    """One process and two ranks on the same global batches; each writes the loss its step
    observer saw to ``steps.jsonl`` beside the run."""
    root = tmp_path_factory.mktemp("ddp")
    (root / "steplog").mkdir()
    (root / "steplog" / "__init__.py").write_text("")
    (root / "steplog" / "hooks.py").write_text(STEP_LOG)
    for name, processes in (("single", 1), ("double", 2)):
        env = {"PYTHONPATH": f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "STEP_LOG": str(root / f"{name}.steps.jsonl")}
        done = run(root / name, tasks, processes, "--plugin", "steplog.hooks", env=env)
        assert done.returncode == 0, failure_report(done)
    return root


@pytest.mark.slow
def test_two_ranks_end_where_one_process_does(runs):
    one, two = weights(runs / "single"), weights(runs / "double")
    assert one.keys() == two.keys()
    for name in one:
        assert torch.allclose(one[name], two[name], atol=1e-5, rtol=1e-4), name


@pytest.mark.slow
def test_step_observers_see_the_loss_of_the_whole_batch(runs):
    # rank 0's observer gets the loss over both ranks' rows: what one process computes on the batch
    one = [json.loads(line) for line in (runs / "single.steps.jsonl").read_text().splitlines()]
    two = [json.loads(line) for line in (runs / "double.steps.jsonl").read_text().splitlines()]
    assert [s for s, _ in two] == [s for s, _ in one] == list(range(1, len(one) + 1)) and len(one) >= 8
    assert [loss for _, loss in two] == pytest.approx([loss for _, loss in one], rel=1e-5)


@pytest.mark.slow
def test_evaluation_is_gathered_in_order_and_equal(runs):
    for dataset in ("pair_dev", "reg_dev", "pair_test"):
        one = json.loads((runs / "single" / "scores" / f"{dataset}.epoch1.json").read_text())
        two = json.loads((runs / "double" / "scores" / f"{dataset}.epoch1.json").read_text())
        assert two["uids"] == one["uids"] and len(two["uids"]) == 21  # every row once, in order (3 batches of 8, 8, 5)
        a, b = np.asarray(one["scores"], dtype=float), np.asarray(two["scores"], dtype=float)
        assert np.allclose(a, b, atol=1e-4)
        if a.ndim == 2:  # classes: the same decision wherever the scores are not a tie
            clear = np.abs(a[:, 0] - a[:, 1]) > 1e-3
            assert [p for p, c in zip(one["predictions"], clear) if c] == [p for p, c in zip(two["predictions"], clear) if c]


@pytest.mark.slow
def test_only_rank_zero_writes(runs):
    one = (runs / "single" / "log.jsonl").read_text().splitlines()
    two = (runs / "double" / "log.jsonl").read_text().splitlines()
    assert [json.loads(r)["event"] for r in two] == [json.loads(r)["event"] for r in one]  # each record once
    assert sorted(p.name for p in (runs / "double").glob("checkpoint-*")) == sorted(p.name for p in (runs / "single").glob("checkpoint-*"))
    assert not list((runs / "double").glob(".checkpoint-*"))


KILLER = """
import os, signal
from mtdnn_core import hookimpl

@hookimpl
def on_step_end(state):
    if os.environ.get("KILL_AT") and state["step"] == int(os.environ["KILL_AT"]):
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_resume_under_two_ranks_is_exact(runs, tasks, tmp_path, monkeypatch):
    (tmp_path / "ddpkill").mkdir()
    (tmp_path / "ddpkill" / "__init__.py").write_text("")
    (tmp_path / "ddpkill" / "hooks.py").write_text(KILLER)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = tmp_path / "cut"
    killed = run(out, tasks, 2, "--plugin", "ddpkill.hooks", kill="7")  # rank 0 dies after step 7 (checkpoint at 4)
    assert killed.returncode != 0 and json.loads((out / "latest.json").read_text())["step"] == 4, failure_report(killed)
    resumed = run(out, tasks, 2, "--plugin", "ddpkill.hooks", "--resume", str(out))
    assert resumed.returncode == 0, failure_report(resumed)
    full, again = weights(runs / "double"), weights(out)
    for name in full:
        assert torch.equal(full[name], again[name]), name
    refused = run(out, tasks, 1, "--resume", str(out))  # another world size cannot continue exactly
    assert refused.returncode == 2 and "written by 2 process(es), resumed by 1" in refused.stderr


@pytest.mark.slow
def test_ranks_share_one_feature_cache(runs):
    # both ranks tokenize every file into the fresh run's cache: one store each, no rank's copy left behind
    stores = sorted(p.name.split(".")[0] for p in (runs / "double" / "cache").iterdir())
    assert stores == ["pair_dev", "pair_test", "pair_train", "reg_dev", "reg_train"]
    assert all((p / "meta.json").is_file() for p in (runs / "double" / "cache").iterdir())


@pytest.fixture(scope="module")
def sharded(tmp_path_factory, tasks):
    out = tmp_path_factory.mktemp("fsdp") / "run"
    done = run_sharded(out, tasks)
    # the regression head's output is a view (squeeze): handed to FSDP as such, an in-place op on
    # it would silently skip the gradient's all-gather, and PyTorch warns about it
    assert "returned a view tensor" not in done.stderr
    return out


@pytest.mark.slow
def test_fsdp_trains_what_unsharded_ranks_train_and_writes_the_same_checkpoints(runs, sharded):
    # the same updates, gradients reduce-scattered instead of all-reduced: equal to float round-off
    plain, fsdp = weights(runs / "double"), weights(sharded)
    assert plain.keys() == fsdp.keys()
    for name in plain:
        assert plain[name].shape == fsdp[name].shape and torch.allclose(plain[name], fsdp[name], atol=1e-6), name
    assert sorted(p.name for p in sharded.glob("checkpoint-*")) == sorted(p.name for p in (runs / "double").glob("checkpoint-*"))
    for dataset in ("pair_dev", "reg_dev", "pair_test"):  # every rank ran as many forward passes; all rows scored once
        one = json.loads((runs / "double" / "scores" / f"{dataset}.epoch1.json").read_text())
        two = json.loads((sharded / "scores" / f"{dataset}.epoch1.json").read_text())
        assert two["uids"] == one["uids"] and np.allclose(one["scores"], two["scores"], atol=1e-5)


@pytest.mark.slow
def test_fsdp_resume_is_exact(sharded, tasks, tmp_path, monkeypatch):
    (tmp_path / "ddpkill").mkdir()
    (tmp_path / "ddpkill" / "__init__.py").write_text("")
    (tmp_path / "ddpkill" / "hooks.py").write_text(KILLER)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = tmp_path / "cut"
    killed = run(out, tasks, 2, "--fsdp", "--plugin", "ddpkill.hooks", kill="7")
    assert killed.returncode != 0 and json.loads((out / "latest.json").read_text())["step"] == 4, failure_report(killed)
    run_sharded(out, tasks, "--plugin", "ddpkill.hooks", "--resume", str(out))
    full, again = weights(sharded), weights(out)
    for name in full:
        assert torch.equal(full[name], again[name]), name


UNSHARDABLE = """
from mtdnn_core.api import Regularizer, hookimpl


class Sharpness(Regularizer):
    supports_distributed = True
    copies_model = True  # and it does not declare supports_fsdp

    def __init__(self, registries=None):
        pass

    def __call__(self, model, task, batch, logits, loss):
        return None


@hookimpl
def register_regularizers(registry):
    registry.add("sharpness", Sharpness)
"""


def test_fsdp_is_refused_without_torchrun_and_with_what_it_cannot_serve(tiny_tasks, tmp_path, monkeypatch):
    from mtdnn_core.testing import cli_refuses

    (tmp_path / "unshardable").mkdir()
    (tmp_path / "unshardable" / "__init__.py").write_text("")
    (tmp_path / "unshardable" / "hooks.py").write_text(UNSHARDABLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    task_def, data = tiny_tasks
    base = ["train", "--task-def", task_def, "--data-dir", data, "--tasks", "pair", "--encoder", "tiny-random-bert",
            "--device", "cpu", "--no-progress", "--output-dir", tmp_path / "run", "--fsdp"]
    cli_refuses(base, "--fsdp shards the model over torchrun's processes")
    cli_refuses([*base, "--compile", "--ema-decay", "0.9", "--precision", "fp16", "--plugin", "unshardable.hooks",
                 "--set", "regularizers=[{name: sharpness}]"],
                "--fsdp with --compile", "--fsdp with --ema-decay", "--fsdp with --precision fp16",
                "sharpness: does not run with --fsdp (a copy of the model); train it without --fsdp")
    refused = cli_refuses([*base, "--plugin", "alum", "--plugin", "example-regularizer",
                           "--set", "regularizers=[{name: smart}, {name: bregman}, {name: l2sp}, {name: confidence_penalty}]"],
                          "error")
    assert "regularizers" not in refused and "--fsdp" in refused  # each serves --fsdp: only the missing torchrun is refused
    assert not (tmp_path / "run" / "log.jsonl").exists()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


#: a plugin that tells the test when rank 0 has finished update MTDNN_TEST_STEP (a connection to
#: the test's port; once per run directory, marked by a file), then waits there for a signal if asked
REACHED = """
import os, signal, socket
from pathlib import Path
from mtdnn_core import hookimpl

@hookimpl
def on_step_end(state):
    mark = Path(os.environ["MTDNN_TEST_MARK"])
    if state.step == int(os.environ["MTDNN_TEST_STEP"]) and not mark.exists():
        mark.touch()
        socket.create_connection(("127.0.0.1", int(os.environ["MTDNN_TEST_PORT"]))).close()
        if os.environ.get("MTDNN_TEST_PAUSE"):
            signal.pause()  # until the test's Ctrl-C arrives (a KeyboardInterrupt if it came first)
"""


class Reached:
    """Where a torchrun launch of ``ARGS`` stands: the test blocks in :meth:`wait` until rank 0
    has finished update ``step`` (an event, not a guess at how long that takes)."""

    def __init__(self, tmp_path, step: int, pause: bool = False):
        import socket

        (tmp_path / "reached").mkdir()
        (tmp_path / "reached" / "__init__.py").write_text("")
        (tmp_path / "reached" / "hooks.py").write_text(REACHED)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                    "HF_HUB_OFFLINE": "1", "MTDNN_TEST_PORT": str(self.server.getsockname()[1]),
                    "MTDNN_TEST_STEP": str(step), "MTDNN_TEST_MARK": str(tmp_path / "reached.mark"),
                    "MTDNN_TEST_PAUSE": "1" if pause else ""}

    def launch(self, tasks, out, *extra):
        import subprocess
        import sys

        task_def, data = tasks
        args = [*ARGS, "--task-def", task_def, "--data-dir", data, "--output-dir", out, "--plugin", "reached.hooks", *extra]
        return subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                                 "-m", "mtdnn_core.cli", *map(str, args)], start_new_session=True, env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait(self, launcher) -> None:
        import socket

        self.server.settimeout(600)  # a bound for a launch that never gets there, not a timing
        try:
            self.server.accept()[0].close()
        except socket.timeout:
            launcher.kill()
            pytest.fail(f"rank 0 never reached the update:\n{launcher.communicate()[1][-3000:]}")
        finally:
            self.server.close()


def _ended(pidfd: int) -> bool:
    import select

    return bool(select.select([pidfd], [], [], 0)[0])  # a pidfd reads as ready once its process has ended


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "pidfd_open") or not Path("/proc/self/task").is_dir(),
                    reason="needs Linux (/proc, pidfd_open) to find and watch torchrun's ranks")
def test_killing_torchrun_stops_its_ranks(tasks, tmp_path):
    # torchrun starts each rank in a session of its own: kill -9 of torchrun alone used to leave
    # both ranks training on, unseen (and writing into the run a user then resumes)
    import select
    import signal

    reached = Reached(tmp_path, step=1)
    launcher = reached.launch(tasks, tmp_path / "run", "--epochs", "400")
    pidfds = []
    try:
        reached.wait(launcher)  # both ranks are training
        pidfds = [os.pidfd_open(pid) for pid in _children(launcher.pid)]
        assert len(pidfds) == 2
        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait()
        for pidfd in pidfds:  # each rank's end is an event; 60 s only bounds a rank that never ends
            select.select([pidfd], [], [], 60)
        assert all(map(_ended, pidfds)), "a rank still runs after torchrun was killed"
    finally:
        for pidfd in pidfds:
            if not _ended(pidfd):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            os.close(pidfd)
        if launcher.poll() is None:
            launcher.kill()


@pytest.mark.slow
def test_ctrl_c_under_torchrun_prints_one_resume_command_that_continues_exactly(runs, tasks, tmp_path):
    import shlex
    import signal
    import subprocess
    import sys

    reached = Reached(tmp_path, step=5, pause=True)  # rank 0 waits after update 5 (checkpoint at 4)
    out = tmp_path / "run"
    launcher = reached.launch(tasks, out)
    reached.wait(launcher)
    launcher.send_signal(signal.SIGINT)  # what Ctrl-C in torchrun's terminal sends it
    _, stderr = launcher.communicate(timeout=600)
    advice = [line for line in stderr.splitlines() if "interrupted at update" in line]
    assert len(advice) == 1 and "interrupted at update 5" in advice[0], stderr[-3000:]  # rank 0 speaks for the run
    command = shlex.split(advice[0].split("resume with: ", 1)[1])
    assert command[:6] == ["torchrun", "--standalone", "--nproc_per_node", "2", "-m", "mtdnn_core.cli"], command
    assert command[-2:] == ["--resume", str(out)]
    resumed = subprocess.run([sys.executable, "-m", "torch.distributed.run", *command[1:]], env=reached.env,
                             capture_output=True, text=True, timeout=600)  # the mark: no second wait
    assert resumed.returncode == 0, failure_report(resumed)
    full, again = weights(runs / "double"), weights(out)
    for name in full:
        assert torch.equal(full[name], again[name]), name


@pytest.mark.slow
def test_l2sp_with_fsdp_trains_what_unsharded_ranks_train_and_resumes_exactly(tasks, tmp_path):
    # its starting weights are kept as the weights are held at its term (shards of the layers, the
    # gathered root), and checkpointed whole: the term and the update are the unsharded run's. 41
    # rows a task: each epoch ends with a batch of one row, which leaves rank 1 without rows (its
    # loss at weight 0, rank 0's at 2): a sharded weight's part must still be counted once
    l2sp = ["--max-train-samples", "41", "--max-steps", "12", "--log-every", "1", "--save-every", "4",
            "--set", "regularizers=[{name: l2sp, params: {alpha: 1.0}}]"]
    plain = run(tmp_path / "plain", tasks, 2, *l2sp)
    assert plain.returncode == 0, failure_report(plain)
    run_sharded(tmp_path / "sharded", tasks, *l2sp)
    one, two = weights(tmp_path / "plain"), weights(tmp_path / "sharded")
    for name in one:
        assert torch.allclose(one[name], two[name], atol=1e-6), name
    terms = [[json.loads(line).get("reg_l2sp") for line in (tmp_path / run_name / "log.jsonl").read_text().splitlines()
              if '"train"' in line] for run_name in ("plain", "sharded")]
    assert terms[1] == pytest.approx(terms[0], rel=1e-4, abs=1e-9) and max(terms[0]) > 0.01
    resumed = tmp_path / "resumed"
    shutil.copytree(tmp_path / "sharded", resumed, ignore=shutil.ignore_patterns("checkpoint-0000012", "cache"))
    run_sharded(resumed, tasks, *l2sp, "--resume", resumed / "checkpoint-0000008")
    again = weights(resumed)
    for name in two:
        assert torch.equal(two[name], again[name]), name


@pytest.mark.slow
def test_a_configuration_error_under_torchrun_is_told_once(tasks, tmp_path):
    done = run(tmp_path / "run", tasks, 2, "--fsdp", "--ema-decay", "0.9")
    assert done.returncode != 0
    assert done.stderr.count("--fsdp with --ema-decay: the weight average keeps a full, unsharded copy") == 1, done.stderr[-3000:]
