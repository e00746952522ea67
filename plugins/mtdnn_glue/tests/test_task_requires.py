"""A task file states the plugin versions it needs (``requires``): an installed plugin of
another version is refused before training, naming the plugin, its version and the range."""
import pytest

from mtdnn_core.api import ConfigError, PluginHost, Trainer


def test_task_files_declare_the_plugins_they_need(tiny_train_config, tmp_path):
    tasks = tmp_path / "tasks.yml"
    tasks.write_text("rte:\n  data_format: PremiseAndOneHypothesis\n  task_type: Classification\n"
                     "  labels: [not_entailment, entailment]\n  requires: {glue: '>=9'}\n")
    config = tiny_train_config(task_def=[str(tasks)], plugins=["glue"], data_dir=str(tmp_path), tasks=["rte"])
    with pytest.raises(ConfigError, match="plugin 'glue' 0.1.0 does not satisfy '>=9'"):
        Trainer(config, PluginHost(["glue"], strict=True), progress=False)
