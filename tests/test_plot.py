"""mtdnn plot on a finished tiny run: the curves it reads are the run's numbers, PNGs are written."""
import json
import shutil

import pytest
from click.testing import CliRunner

from mtdnn_core.cli import main
from mtdnn_core.errors import MtdnnError
from mtdnn_core.plot import plot_runs, read_run
from mtdnn_core.testing import write_tiny_tasks

pytest.importorskip("matplotlib")

TINY = ["--encoder", "tiny-random-bert", "--batch-size", "8", "--max-seq-len", "32", "--lr", "1e-3",
        "--num-threads", "2", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("plot")
    task_def, data = write_tiny_tasks(root / "tasks")
    out = root / "run"
    result = CliRunner().invoke(main, [
        "-q", "train", "--task-def", str(task_def), "--data-dir", str(data), "--tasks", "pair,reg", "--epochs", "1",
        "--max-train-samples", "16", "--max-eval-samples", "8", "--eval-every", "2", "--log-every", "1",
        "--output-dir", str(out), *TINY])
    assert result.exit_code == 0, result.output
    return out


def test_curves_are_the_runs_numbers(finished_run):
    curves = read_run(finished_run)
    log = [json.loads(line) for line in (finished_run / "log.jsonl").read_text().splitlines()]
    train = [r for r in log if r["event"] == "train"]
    assert curves.learning_rate == [(r["step"], r["lr"]) for r in train]
    assert set(curves.train_loss) == {"pair", "reg"}
    pair = [(r["step"], r["task_loss"]["pair"]) for r in train if "pair" in r["task_loss"]]
    assert curves.train_loss["pair"] == pair
    history = json.loads((finished_run / "metrics.json").read_text())
    assert curves.metrics["reg_dev"]["pearson"] == [(h["step"], h["metrics"]["reg_dev"]["pearson"]) for h in history]


def test_plot_command_writes_pngs_and_overlays_runs(finished_run, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(finished_run, other, ignore=shutil.ignore_patterns("checkpoint-*", "cache", "data"))
    result = CliRunner().invoke(main, ["plot", str(finished_run), str(other), "--out", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "plots").iterdir()}
    assert {"train_loss.png", "learning_rate.png", "pair_dev.png", "reg_dev.png"} <= names
    for name in names:
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    single = plot_runs([finished_run], tmp_path / "one")
    assert len(single) == len(names)


def test_plot_refuses_a_directory_that_is_no_run(tmp_path):
    with pytest.raises(MtdnnError, match="neither log.jsonl nor metrics.json"):
        read_run(tmp_path)


def test_plot_redraws_its_own_pngs_and_never_replaces_anyone_elses(finished_run, tmp_path):
    from PIL import Image

    out = tmp_path / "plots"
    first = CliRunner().invoke(main, ["plot", str(finished_run), "--out", str(out)])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, ["plot", str(finished_run), "--out", str(out)])  # its own charts: redrawn
    assert again.exit_code == 0, again.output
    for path in out.iterdir():
        with Image.open(path) as image:
            assert image.text["Software"] == "mtdnn"
    mine = tmp_path / "mine"
    mine.mkdir()
    Image.new("RGB", (3, 2), "red").save(mine / "reg_dev.png")  # a user's picture that happens to share a name
    (mine / "train_loss.png").write_text("notes")
    before = {p.name: p.read_bytes() for p in mine.iterdir()}
    refused = CliRunner().invoke(main, ["plot", str(finished_run), "--out", str(mine)])
    assert refused.exit_code != 0 and "train_loss.png, reg_dev.png, which mtdnn did not draw" in refused.output
    assert {p.name: p.read_bytes() for p in mine.iterdir()} == before  # nothing written, nothing replaced


def test_a_run_without_log_jsonl_is_drawn_from_its_evaluations_with_a_warning(finished_run, tmp_path, caplog, capsys):
    from mtdnn_core.train_options import print_summary

    run = tmp_path / "tb_only"  # trained with --report-to tensorboard alone: no log.jsonl
    shutil.copytree(finished_run, run, ignore=shutil.ignore_patterns("checkpoint-*", "cache", "log.jsonl"))
    with caplog.at_level("WARNING", logger="mtdnn"):
        written = plot_runs([run], tmp_path / "plots")
    assert sorted(p.name for p in written) == ["pair_dev.png", "reg_dev.png"]
    assert f"{run}: no log.jsonl" in caplog.text and "add jsonl to --report-to" in caplog.text
    summary = json.loads((run / "summary.json").read_text())
    print_summary({**summary, "output_dir": str(run)})
    files = capsys.readouterr().out.split("files: ", 1)[1]
    assert "log.jsonl" not in files and f"{run}/metrics.json" in files  # only what the run wrote


def test_plot_never_writes_through_a_link(finished_run, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = CliRunner().invoke(main, ["plot", str(finished_run), "--out", str(elsewhere)])  # charts of mtdnn's own
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in elsewhere.iterdir()}
    out = tmp_path / "out"
    out.mkdir()
    (out / "train_loss.png").symlink_to(elsewhere / "train_loss.png")  # a link to a chart mtdnn drew
    (out / "reg_dev.png").symlink_to(tmp_path / "nowhere.png")  # a dangling one
    refused = CliRunner().invoke(main, ["plot", str(finished_run), "--out", str(out)])
    assert refused.exit_code != 0 and "train_loss.png, reg_dev.png, which mtdnn did not draw" in refused.output
    assert {p.name: p.read_bytes() for p in elsewhere.iterdir()} == before and not (tmp_path / "nowhere.png").exists()
