"""The example task plugin end to end through the CLI: a task type, its data format, its metric
and its task train, score and predict on a few rows with the tiny random encoder."""
import json

from click.testing import CliRunner

from mtdnn_core.api import cli

WORDS = "the a cat sat on mat and then it ran far away".split()
TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]


def write_data(folder):
    """Sentences of 1 to 6 words; the label (the count) is not in the file."""
    lines = [f"s{i}\t{' '.join(WORDS[: 1 + i % 6])}" for i in range(64)]
    folder.mkdir()
    (folder / "wordcount_train.tsv").write_text("\n".join(lines[:48]) + "\n")
    (folder / "wordcount_dev.tsv").write_text("\n".join(lines[48:]) + "\n")
    return [1 + i % 6 for i in range(48, 64)]


def test_the_registered_task_trains_scores_and_predicts(tmp_path):
    golds = write_data(tmp_path / "data")
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "--plugin", "example-task", "--data-dir", str(tmp_path / "data"),
                                  "--tasks", "wordcount", "--epochs", "2", "--batch-size", "8", "--lr", "3e-3",
                                  "--output-dir", str(out), *TINY])
    assert result.exit_code == 0, result.output
    scores = json.loads((out / "scores" / "wordcount_dev.epoch1.json").read_text())
    assert all(isinstance(p, int) and p >= 0 for p in scores["predictions"])  # the task type's decoder rounded them
    expected = 100 * sum(p == g for p, g in zip(scores["predictions"], golds)) / len(golds)
    assert scores["metrics"]["exact_count"] == expected
    # prediction from the checkpoint: the plugin is found again from the checkpoint's metadata
    result = runner.invoke(cli, ["predict", "--checkpoint", str(out), "--task", "wordcount", "--data",
                                  str(tmp_path / "data" / "wordcount_dev.tsv"), "--output", str(tmp_path / "pred.json")])
    assert result.exit_code == 0, result.output
    predicted = json.loads((tmp_path / "pred.json").read_text())
    assert predicted["predictions"] == scores["predictions"]


def test_a_row_with_a_missing_column_names_the_file_and_line(tmp_path):
    write_data(tmp_path / "data")
    train = tmp_path / "data" / "wordcount_train.tsv"
    train.write_text("s0\tone two\ns1\n")
    before = train.read_bytes()
    result = CliRunner().invoke(cli, ["train", "--plugin", "example-task", "--data-dir", str(tmp_path / "data"),
                                       "--tasks", "wordcount", "--output-dir", str(tmp_path / "run"), *TINY])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{train}:2: 1 column(s), expected 2 (uid, text)" in result.output
    assert train.read_bytes() == before
