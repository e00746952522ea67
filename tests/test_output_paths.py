"""The output-path rules plugins share: sameness through links, and is / contains / inside."""
import os

import pytest

from mtdnn_core.errors import MtdnnError
from mtdnn_core.output_paths import check_output, dangling_link, relation, same_path


def test_same_file_under_other_names(tmp_path, monkeypatch):
    data = tmp_path / "data.txt"
    data.write_text("x")
    os.link(data, tmp_path / "hard.txt")
    (tmp_path / "soft.txt").symlink_to(data)
    monkeypatch.chdir(tmp_path)
    assert same_path("hard.txt", data)  # a hard link: only os.path.samefile sees it
    assert same_path("soft.txt", data)
    assert same_path(f"../{tmp_path.name}/data.txt", data)
    assert not same_path("other.txt", data)


def test_relations(tmp_path):
    run = tmp_path / "run"
    (run / "ckpt").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(run)
    assert relation(tmp_path, run) == "contains"
    assert relation(tmp_path / "alias" / "ckpt" / "x.json", run) == "inside"
    assert relation(tmp_path / "alias", run) == "is"
    assert relation(tmp_path / "runs", run) is None
    assert relation(tmp_path / "run2", run) is None  # a common prefix is not containment


def test_check_output_messages(tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("x")
    with pytest.raises(MtdnnError, match=r"--out-file .*in\.txt is the same path as the input PREDICTIONS .*in\.txt"):
        check_output(data, [("PREDICTIONS", data)], option="--out-file", overwrite=True)
    check_output(tmp_path / "new.txt", [("PREDICTIONS", data), ("--x", None), ("--y", tmp_path / "missing")])
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    assert dangling_link(tmp_path / "link" / "a" / "b") == tmp_path / "link"
    with pytest.raises(MtdnnError, match="is a symbolic link to .*nowhere, which does not exist"):
        check_output(tmp_path / "link", option="--out", directory=True)


def test_directories_of_others_and_own(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text("{}\n")
    with pytest.raises(MtdnnError, match=r"holds another run's files \(log\.jsonl\)"):
        check_output(run, option="--output-dir", directory=True, overwrite=True, foreign=["log.jsonl"])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "manifest.json").write_text("{}")
    with pytest.raises(MtdnnError, match="already holds this command's output"):
        check_output(tmp_path / "mine", option="--out", directory=True, own=["manifest.json"])
    check_output(tmp_path / "mine", option="--out", directory=True, own=["manifest.json"], overwrite=True)
    with pytest.raises(MtdnnError, match="exists and is not empty; pass --overwrite"):
        check_output(tmp_path / "mine", option="--out", directory=True, replaces=True)


def test_inside_allowed_never_replaces_an_existing_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("[]\n")
    check_output(run / "plots", [("RUN", run)], option="--out", directory=True, allow_inside=True)
    with pytest.raises(MtdnnError, match=r"--zip .*metrics\.json is a file of the input RUN .*run; writing there would replace it"):
        check_output(run / "metrics.json", [("RUN", run)], option="--zip", allow_inside=True)
    assert (run / "metrics.json").read_text() == "[]\n"


def test_write_failures_as_the_libraries_report_them():
    import errno

    from safetensors import SafetensorError

    from mtdnn_core.io import is_write_failure

    # the messages a 64 KiB tmpfs gave: safetensors' save_file and torch.save on a full disk
    assert is_write_failure(SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)"))
    assert is_write_failure(RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534"))
    assert is_write_failure(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_write_failure(RuntimeError("size mismatch for weight: copying a param with shape [3, 8]"))
    assert not is_write_failure(TypeError("write() argument must be str, not bytes"))
    assert not is_write_failure(KeyboardInterrupt())
