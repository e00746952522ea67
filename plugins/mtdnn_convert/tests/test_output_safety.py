"""``convert``, ``export`` and ``extract`` never write over what they read: an output that is,
contains or lies inside an input is refused (``--overwrite`` or not), naming the option and both
paths, and every input stays byte-identical; a full disk leaves no partial output."""
import errno
import os
import shutil
from pathlib import Path

import pytest

from mtdnn_core.testing import cli_refuses as refused, snapshot_files as snapshot, assert_unchanged as unchanged

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny_tf_bert"


@pytest.fixture
def tf_checkpoint(tmp_path) -> Path:
    target = tmp_path / "uncased_L-2"
    shutil.copytree(TINY, target)
    return target


@pytest.fixture
def pt_file(tmp_path) -> Path:
    """A tiny file shaped like mt_dnn_base_uncased.pt, with a note of the user's beside it."""
    import torch
    from transformers import BertConfig, BertModel

    bert = dict(vocab_size=30, hidden_size=8, num_hidden_layers=2, num_attention_heads=2, intermediate_size=16,
                max_position_embeddings=16, type_vocab_size=2)
    torch.manual_seed(0)
    state = {f"bert.{k}": v for k, v in BertModel(BertConfig(**bert)).state_dict().items()}
    state.update({"scoring_list.0.weight": torch.randn(3, 8), "scoring_list.0.bias": torch.randn(3)})
    folder = tmp_path / "original"
    folder.mkdir()
    torch.save({"state": state, "config": bert}, folder / "m.pt")
    (folder / "notes.txt").write_text("beside the checkpoint\n")
    return folder / "m.pt"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_tf_bert_into_its_own_checkpoint_directory(tf_checkpoint, overwrite):
    before = snapshot(tf_checkpoint)
    refused(["convert", "tf-bert", tf_checkpoint, tf_checkpoint, *overwrite],
            f"OUT_DIR {tf_checkpoint} is the same path as the input CKPT {tf_checkpoint}", "--overwrite never allows this")
    refused(["convert", "tf-bert", tf_checkpoint / "bert_model.ckpt.index", tf_checkpoint, *overwrite],
            f"OUT_DIR {tf_checkpoint} contains the input CKPT {tf_checkpoint}/bert_model.ckpt.index")
    refused(["convert", "tf-bert", tf_checkpoint, tf_checkpoint.parent, *overwrite], f"OUT_DIR {tf_checkpoint.parent} contains")
    unchanged(before)


def test_tf_bert_beside_a_vocabulary_given_elsewhere(tf_checkpoint, tmp_path):
    vocab = tmp_path / "shared" / "vocab.txt"
    vocab.parent.mkdir()
    shutil.copy(tf_checkpoint / "vocab.txt", vocab)
    before = snapshot(vocab.parent)
    refused(["convert", "tf-bert", tf_checkpoint, vocab.parent, "--vocab", vocab, "--overwrite"],
            f"OUT_DIR {vocab.parent} contains the input --vocab {vocab}")
    unchanged(before)


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_mtdnn_pt_into_the_directory_of_its_file(pt_file, overwrite):
    before = snapshot(pt_file.parent)
    refused(["convert", "mtdnn-pt", pt_file, pt_file.parent, *overwrite],
            f"OUT_DIR {pt_file.parent} contains the input FILE {pt_file}")
    unchanged(before)


#: a full disk as the OS reports it, and as safetensors does (seen on a full tmpfs)
FULL_DISK = {"oserror": (lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
             "safetensors": (lambda: __import__("safetensors").SafetensorError(
                 "Error while serializing: I/O error: No space left on device (os error 28)"),
                 "Error while serializing: I/O error: No space left on device (os error 28)")}


@pytest.mark.parametrize("form", sorted(FULL_DISK))
def test_mtdnn_pt_full_disk_leaves_no_partial_output(pt_file, tmp_path, monkeypatch, form):
    out = tmp_path / "converted"
    out.mkdir()
    (out / "config.json").write_text('{"earlier": "conversion"}\n')
    before = snapshot(out)
    error, said = FULL_DISK[form]

    def no_space(tensors, path, *args, **kwargs):
        Path(path).write_bytes(b"partial")
        raise error()

    monkeypatch.setattr("safetensors.torch.save_file", no_space)
    refused(["convert", "mtdnn-pt", pt_file, out, "--overwrite"], f"{out}: writing failed ({said})",
            "the partial output was removed")
    unchanged(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["converted", "original"])


def fake_run(root: Path) -> Path:
    """A training run's bookkeeping files; the refusals come before anything is loaded."""
    run = root / "run"
    (run / "checkpoint-0000001").mkdir(parents=True)
    (run / "latest.json").write_text('{"checkpoint": "checkpoint-0000001"}\n')
    (run / "log.jsonl").write_text('{"step": 1}\n')
    (run / "checkpoint-0000001" / "state.json").write_text("{}\n")
    return run


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_export_into_the_run_it_reads(tmp_path, overwrite):
    run = fake_run(tmp_path)
    before = snapshot(run)
    refused(["export", run, "--task", "rte", run, *overwrite], f"OUT_DIR {run} is the same path as the input RUN {run}")
    refused(["export", f"{run}:best", "--task", "rte", run / "rte", *overwrite], f"OUT_DIR {run / 'rte'} lies inside the input RUN {run}")
    refused(["export", run / "checkpoint-0000001", "--task", "rte", tmp_path, *overwrite], f"OUT_DIR {tmp_path} contains the input RUN")
    unchanged(before)


def test_export_over_another_training_run(tmp_path):
    other = fake_run(tmp_path / "other")
    before = snapshot(other)
    refused(["export", tmp_path / "nowhere", "--task", "rte", other, "--overwrite"],
            f"OUT_DIR {other}: holds another run's files (log.jsonl, latest.json, checkpoint-*)")
    unchanged(before)


def test_dangling_symlink_out_dir(tf_checkpoint, tmp_path):
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone")
    refused(["convert", "tf-bert", tf_checkpoint, link], f"OUT_DIR {link}: {link} is a symbolic link", "which does not exist")


def test_extract_output_that_is_its_input(tmp_path):
    lines = tmp_path / "sentences.jsonl"
    lines.write_text("a man sleeps\nsomeone runs\n")
    before = snapshot(lines)
    refused(["extract", "--encoder", "tiny-random-bert", "--input", lines, "--output", lines],
            f"--output {lines} is the same path as the input --input {lines}")
    alias = tmp_path / "alias.jsonl"
    alias.symlink_to(lines)
    refused(["extract", "--encoder", "tiny-random-bert", "--input", lines, "--output", alias],
            f"--output {alias} is the same path as the input --input {lines}")
    unchanged(before)
