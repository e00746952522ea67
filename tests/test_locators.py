"""A task's locator receives the run's definition of the task (after --task-def files and
task_overrides); a locator of the earlier form (data_dir, work_dir) is still called so."""
from pathlib import Path

from mtdnn_core.api import Task, TaskDef

DEFINITION = TaskDef(name="t", task_type="classification", data_format="PremiseOnly", labels=["a", "b"])


def test_a_locator_receives_the_runs_definition(tmp_path):
    seen = []

    def locate(definition, data_dir, work_dir):
        seen.append((definition, data_dir, work_dir))
        return {split: Path(data_dir) / f"{definition.name}_{split}.tsv" for split in definition.split_names}

    overridden = DEFINITION.model_copy(update={"split_names": ["train", "heldout"]})
    files = Task(overridden, locate=locate).find_data(tmp_path / "data", tmp_path / "work")
    assert seen == [(overridden, tmp_path / "data", tmp_path / "work")]
    assert files == {"train": tmp_path / "data" / "t_train.tsv", "heldout": tmp_path / "data" / "t_heldout.tsv"}


def test_a_locator_of_the_earlier_form_is_called_without_the_definition(tmp_path):
    seen = []

    def locate(data_dir, work_dir):
        seen.append((data_dir, work_dir))
        return {}

    assert Task(DEFINITION, locate=locate).find_data(str(tmp_path), str(tmp_path / "w")) == {}
    assert seen == [(tmp_path, tmp_path / "w")]
