"""A task definition names the example head (``head: mean_pool``): the trained model has that
head's layers and not the built-in pooler head's."""
from click.testing import CliRunner
from safetensors.torch import load_file

from mtdnn_core.api import cli

TINY = ["--encoder", "tiny-random-bert", "--max-seq-len", "32", "--batch-size", "8", "--num-threads", "2",
        "--device", "cpu", "--no-progress"]


def test_the_head_is_built_from_its_name_in_a_task_definition(tiny_tasks, tmp_path):
    task_def, data = tiny_tasks
    task_def.write_text(task_def.read_text().replace("  labels: ['no', 'yes']\n", "  labels: ['no', 'yes']\n  head: mean_pool\n"))
    result = CliRunner().invoke(cli, ["train", "--plugin", "example-head", "--task-def", str(task_def), "--data-dir", str(data),
                                      "--tasks", "pair", "--max-train-samples", "16", "--max-eval-samples", "8",
                                      "--epochs", "1", "--output-dir", str(tmp_path / "o"), *TINY])
    assert result.exit_code == 0, result.output
    saved = load_file(next((tmp_path / "o").glob("checkpoint-*")) / "model.safetensors")
    assert "heads.pair.out.weight" in saved and "heads.pair.dense.weight" not in saved
