"""The example head end to end: trained through a task definition, then exported with
`mtdnn export` (its export_head hook) and run by transformers' own pipeline, which must give
the probabilities mtdnn scored."""
import json

import pytest
from click.testing import CliRunner

from mtdnn_core.api import cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--num-threads", "2", "--device", "cpu", "--no-progress"]
TASKS = ("polarity:\n  task_type: Classification\n  data_format: PremiseOnly\n  labels: [neg, pos]\n"
         "  head: mean_pool\n  head_config: {dropout: 0.0}\n")


def test_train_with_the_head_then_export_it_for_transformers(tmp_path):
    (tmp_path / "tasks.yml").write_text(TASKS)
    data = tmp_path / "data"
    data.mkdir()
    rows = [f"r{i}\t{'pos' if i % 2 else 'neg'}\t{'good fine' if i % 2 else 'bad poor'} word {i}" for i in range(24)]
    (data / "polarity_train.tsv").write_text("\n".join(rows[:16]) + "\n")
    (data / "polarity_dev.tsv").write_text("\n".join(rows[16:]) + "\n")
    run = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "--plugin", "example-head", "--task-def", str(tmp_path / "tasks.yml"),
                                 "--data-dir", str(data), "--tasks", "polarity", "--epochs", "1", "--batch-size", "8",
                                 "--lr", "1e-3", "--output-dir", str(run), *TINY])
    assert result.exit_code == 0, result.output
    scored = json.loads((run / "scores" / "polarity_dev.epoch0.json").read_text())
    model_dir = tmp_path / "exported"
    result = runner.invoke(cli, ["export", str(run), "--task", "polarity", str(model_dir), "--plugin", "example-head"])
    assert result.exit_code == 0, result.output
    assert "MeanPoolHead" in (model_dir / "modeling_mtdnn.py").read_text()  # custom code: no transformers class has it
    from transformers import pipeline

    classify = pipeline("text-classification", model=str(model_dir), trust_remote_code=True, top_k=None, device="cpu")
    texts = [row.split("\t")[2] for row in rows[16:]]
    results = classify(texts)
    assert len(results) == len(scored["scores"]) == 8
    for result, expected in zip(results, scored["scores"]):
        got = {r["label"]: r["score"] for r in result}
        assert [got["neg"], got["pos"]] == pytest.approx(expected, abs=1e-5)
