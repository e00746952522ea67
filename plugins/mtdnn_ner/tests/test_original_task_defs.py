"""The original MT-DNN toolkit's NER task-definition files load unchanged with this plugin: their
spellings resolve to the plugin's components and every task checks clean."""
import warnings
from pathlib import Path

import pytest

from mtdnn_core.api import PluginHost, check_task_defs, load_task_defs

# fixtures mirroring experiments/ner/*.yml, kept with the core's original-file fixtures
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "original_task_defs"


@pytest.mark.parametrize("name", ["ner_task_def.yml", "ner_task_def_roberta.yml"])
def test_the_original_ner_files_load_and_check_clean(name):
    registries = PluginHost(["ner"], strict=True).registries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ner_task_def.yml repeats a key on purpose (tested in the core)
        defs = load_task_defs(FIXTURES / name)
    assert check_task_defs(defs, registries) == []  # every task available, every name known


def test_the_originals_seqeval_metric_is_the_plugins():
    assert PluginHost(["ner"], strict=True).registries.metrics.get("SeqEval").name == "seqeval_f1"
