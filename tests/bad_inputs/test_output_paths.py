"""Outputs that would destroy inputs or another run: refused before any work, naming the option
and both paths, every input byte-identical afterwards; a full disk is one message, not a
traceback, and leaves the previous checkpoint intact."""
import errno
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.testing import snapshot_files as snapshot, assert_unchanged as unchanged


def run_cli(args, cwd: Path | None = None):
    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return CliRunner().invoke(main, [str(a) for a in args])
    finally:
        os.chdir(old)


def test_resume_alone_continues_in_its_run_not_in_the_default_directory(run_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    other = elsewhere / "runs" / "mtdnn"
    other.mkdir(parents=True)
    (other / "log.jsonl").write_text('{"step": 7}\n')
    (other / "metrics.json").write_text("[]\n")
    before = snapshot(other)
    config = json.loads((run_copy / "config.json").read_text())
    del config["output_dir"]
    settings = tmp_path / "run.yml"
    settings.write_text(json.dumps(config))
    result = run_cli(["train", "--config", settings, "--resume", run_copy, "--no-progress"], cwd=elsewhere)
    assert result.exit_code == 0, result.output
    unchanged(before)
    assert sorted(p.name for p in other.iterdir()) == ["log.jsonl", "metrics.json"]
    events = [json.loads(line) for line in (run_copy / "log.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "resume" and str(run_copy) in events[-1]["checkpoint"]
    assert f"files: {run_copy}/metrics.json" in result.output


def test_resume_into_another_output_dir_is_refused(run_copy, ws):
    other = ws.root / "other"
    other.mkdir()
    (other / "log.jsonl").write_text('{"step": 7}\n')
    before = snapshot(run_copy, other)
    args = ["train", "--config", run_copy / "config.json", "--output-dir", other, "--resume", run_copy, "--no-progress"]
    ws.fails(args, f"--output-dir {other} is not the run --resume {run_copy} continues", f"--output-dir {run_copy}")
    unchanged(before)


@pytest.mark.parametrize("where", ["is", "contains", "inside"])
@pytest.mark.parametrize("overwrite", [False, True])
def test_train_output_dir_and_the_data_dir(ws, where, overwrite):
    out = {"is": ws.data, "contains": ws.root, "inside": ws.data / "run"}[where]
    ws.write(ws.data / "log.jsonl", '{"step": 3}\n')  # the data directory happens to look like a run
    before = snapshot(ws.root)
    args = ws.train("pair", *(["--overwrite"] if overwrite else []))
    args[args.index("--output-dir") + 1] = str(out)
    ws.run_existed = True
    what = {"is": "is the same path as", "contains": "contains", "inside": "lies inside"}[where]
    ws.fails(args, f"--output-dir {out} {what} the input --", "--overwrite never allows this")
    unchanged(before)
    assert not (ws.data / "run").exists()


def test_train_output_dir_through_a_symbolic_link_to_the_data(ws):
    link = ws.root / "link"
    link.symlink_to(ws.data)
    before = snapshot(ws.data)
    args = ws.train("pair", "--overwrite")
    args[args.index("--output-dir") + 1] = str(link)
    ws.fails(args, f"--output-dir {link} is the same path as the input --data-dir {ws.data}")
    unchanged(before)


def test_dangling_symlink_output_dir(ws):
    ws.out.symlink_to(ws.root / "gone")
    ws.fails(ws.train("pair"), f"--output-dir {ws.out}: {ws.out} is a symbolic link to {ws.root / 'gone'}, which does not exist")
    assert ws.out.is_symlink() and not (ws.root / "gone").exists()


def test_dangling_symlink_above_the_output_dir(ws):
    (ws.root / "runs").symlink_to(ws.root / "gone")
    target = ws.root / "runs" / "a"
    args = ws.train("pair")
    args[args.index("--output-dir") + 1] = str(target)
    ws.fails(args, f"--output-dir {target}: {ws.root / 'runs'} is a symbolic link", "which does not exist")


def test_predict_output_that_is_the_data_or_a_run_file(run_copy, ws):
    data = ws.data / "pair_dev.tsv"
    before = snapshot(run_copy, data)
    base = ["predict", "--checkpoint", run_copy, "--task", "pair", "--data", data, "--output"]
    ws.fails([*base, data], f"--output {data} is the same path as the input --data {data}")
    ws.fails([*base, run_copy / "metrics.json"], f"--output {run_copy / 'metrics.json'} is the same path as the input --checkpoint")
    ckpt = ws.checkpoint_of(run_copy)
    ws.fails([*base, ckpt / "state.json"], f"--output {ckpt / 'state.json'} lies inside the input --checkpoint {ckpt}")
    unchanged(before)


def test_strip_into_its_own_run_is_refused_even_with_overwrite(run_copy, ws):
    before = snapshot(run_copy)
    ws.fails(["strip", run_copy, run_copy, "--overwrite"], f"TARGET {run_copy} is the same path as the input CHECKPOINT {run_copy}")
    ckpt = ws.checkpoint_of(run_copy)
    ws.fails(["strip", f"{run_copy}:best", run_copy.parent, "--overwrite"], f"TARGET {run_copy.parent} contains the input CHECKPOINT")
    ws.fails(["strip", ckpt, ckpt / "encoder", "--overwrite"], f"TARGET {ckpt / 'encoder'} lies inside the input CHECKPOINT {ckpt}")
    unchanged(before)


def test_strip_into_a_non_empty_directory_needs_overwrite_and_never_replaces_a_run(run_copy, ws, tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine\n")
    other = tmp_path / "other-run"
    other.mkdir()
    (other / "log.jsonl").write_text('{"step": 1}\n')
    before = snapshot(mine, other)
    ws.fails(["strip", run_copy, mine], f"TARGET {mine}: exists and is not empty; pass --overwrite")
    ws.fails(["strip", run_copy, other, "--overwrite"], f"TARGET {other}: holds another run's files (log.jsonl)")
    unchanged(before)


def test_prepro_cache_dir_that_is_the_data_dir(ws):
    before = snapshot(ws.data)
    ws.fails(["prepro", "--task-def", ws.tasks, "--tasks", "pair", "--data-dir", ws.data, "--cache-dir", ws.data,
              "--encoder", "tiny-random-bert"], f"--cache-dir {ws.data} is the same path as the input --data-dir {ws.data}")
    unchanged(before)


def test_plot_out_that_is_the_run(run_copy, ws):
    before = snapshot(run_copy)
    ws.fails(["plot", run_copy, "--out", run_copy], f"--out {run_copy} is the same path as the input RUN {run_copy}")
    unchanged(before)


#: a full disk as the OS reports it, and as torch.save's stream writer does (seen on a full tmpfs)
FULL_DISK = {"oserror": (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
             "torch": (RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 3920960 vs 3920848"),
                       "[enforce fail at inline_container.cc:672] . unexpected pos 3920960 vs 3920848")}


@pytest.mark.parametrize("form", sorted(FULL_DISK))
def test_full_disk_during_a_checkpoint_keeps_the_previous_one(ws, monkeypatch, form):
    import torch

    from mtdnn_core.training import checkpoint as ckpt

    real_save, calls = torch.save, []
    error, said = FULL_DISK[form]

    def save_then_fill_the_disk(obj, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint: half a file, then no space left
            Path(path).write_bytes(b"PK\x03\x04partial")
            raise error
        return real_save(obj, path, *args, **kwargs)

    monkeypatch.setattr(ckpt.torch, "save", save_then_fill_the_disk)
    ws.run_existed = True
    output = ws.fails(ws.train("pair", "--epochs", "2", "--save-every", "1"),
                      f"{ws.out / 'checkpoint-0000002'}: writing the checkpoint failed ({said}; ",
                      f"the partial checkpoint was removed and {ws.out / 'latest.json'} still names the previous "
                      f"complete one", f"--resume {ws.out}")
    assert "Traceback" not in output
    assert sorted(p.name for p in ws.out.glob("*checkpoint-*")) == ["checkpoint-0000001"]
    assert json.loads((ws.out / "latest.json").read_text())["checkpoint"] == "checkpoint-0000001"
    assert ckpt.complete(ws.out / "checkpoint-0000001")
    assert ckpt.load_trainer_state(ws.out / "checkpoint-0000001")["optimizer"]


def test_full_disk_during_an_atomic_write_keeps_the_old_file(tmp_path, monkeypatch):
    from mtdnn_core import io
    from mtdnn_core.errors import MtdnnError

    target = tmp_path / "metrics.json"
    target.write_text("[1]\n")

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(io.os, "fsync", no_space)
    with pytest.raises(MtdnnError) as caught:
        io.atomic_write_json(target, [2])
    assert str(caught.value) == (f"{target}: writing failed (No space left on device); the file keeps its previous "
                                 f"content; free space or choose another location")
    assert isinstance(caught.value, OSError) and caught.value.errno == errno.ENOSPC
    assert target.read_text() == "[1]\n"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_full_disk_while_caching_features(ws, monkeypatch):
    from mtdnn_core.data import store

    real_add = store.FeatureWriter.add

    def add_then_fill_the_disk(self, features):
        real_add(self, features)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store.FeatureWriter, "add", add_then_fill_the_disk)
    ws.fails(ws.train("pair"), f"{ws.out / 'cache'}/pair_", "writing the feature cache failed (No space left on device)",
             "the partial files were removed")
    assert list((ws.out / "cache").iterdir()) == []


def test_predict_default_output_never_replaces_an_existing_file(run_copy, ws):
    data = ws.data / "pair_dev.tsv"
    default = ws.data / "pair_dev.pred.json"
    default.write_text('{"mine": true}\n')
    ws.fails(["predict", "--checkpoint", run_copy, "--task", "pair", "--data", data],
             f"--output not given and its default {default} exists", f"pass --output {default} to replace it")
    assert default.read_text() == '{"mine": true}\n'


@pytest.mark.parametrize("how", ["--overwrite", "--resume"])
def test_a_run_directory_another_process_writes_is_refused_and_left_alone(run_copy, ws, how, monkeypatch):
    import fcntl

    import mtdnn_core.training.trainer as trainer_module

    def no_encoder(*args, **kwargs):
        raise AssertionError("the encoder was loaded before the run directory was checked")

    # another process (e.g. torchrun ranks left running after torchrun was killed) holds the run
    # directory, as every training process does while it writes there
    held = os.open(run_copy, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    (run_copy / ".checkpoint-0000009.tmp-99999").mkdir()  # the other writer's checkpoint in progress
    settings = ws.write(ws.root / "settings.json", (run_copy / "config.json").read_text())
    before = snapshot(run_copy)
    ws.run_existed = True
    args = ["train", "--config", settings, "--output-dir", run_copy, "--no-progress", how]
    if how == "--resume":
        args.append(run_copy)
    monkeypatch.setattr(trainer_module, "build_encoder", no_encoder)  # refused before the model loads
    try:
        ws.fails(args, f"--output-dir {run_copy}: another process is writing a run there now", "pgrep -af mtdnn")
        unchanged(before)  # neither removed (--overwrite) nor tidied (the half-written checkpoint)
        assert (run_copy / ".checkpoint-0000009.tmp-99999").is_dir()
    finally:
        os.close(held)
    monkeypatch.undo()
    again = run_cli(args)  # once the other process is gone, the same command runs
    assert again.exit_code == 0, again.output
    assert not (run_copy / ".checkpoint-0000009.tmp-99999").exists()


def test_a_forked_child_does_not_keep_the_claim(tmp_path):
    from mtdnn_core.training.run_dir import Claim

    claim = Claim(tmp_path)
    started_r, started_w = os.pipe()
    release_r, release_w = os.pipe()
    child = os.fork()  # as a DataLoader worker is forked while the run holds its directory
    if child == 0:  # (the fork handlers have run by now)
        os.write(started_w, b"x")
        os.read(release_r, 1)  # alive until the parent has looked
        os._exit(0)
    try:
        assert os.read(started_r, 1) == b"x"
        claim.release()
        Claim(tmp_path).release()  # free at once: the child closed its copy of the descriptor
    finally:
        os.write(release_w, b"x")
        os.waitpid(child, 0)
        for fd in (started_r, started_w, release_r, release_w):
            os.close(fd)


def test_a_file_system_without_locks_runs_unguarded_with_a_warning(tmp_path, monkeypatch, caplog):
    import fcntl

    from mtdnn_core.training.run_dir import Claim

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with caplog.at_level("WARNING", logger="mtdnn"), Claim(tmp_path) as claim:
        assert claim.fd is None
    assert f"--output-dir {tmp_path}: cannot lock it (No locks available)" in caplog.text
