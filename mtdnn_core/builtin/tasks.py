"""Built-in tasks: ``mlm``, masked-LM on any text corpus (``mlm_train.{jsonl,json,txt}``)."""
from mtdnn_core.hookspecs import hookimpl


@hookimpl
def register_tasks(registry):
    from mtdnn_core.config import TaskDef
    from mtdnn_core.data.corpus import locate_corpus
    from mtdnn_core.tasks import Task

    definition = TaskDef(name="mlm", task_type="masked_lm", data_format="MLM",
                         description="masked-LM on a text corpus: mlm_train.{jsonl,json,txt} (and mlm_dev, "
                                     "else every 10th paragraph is held out)")
    registry.add("mlm", Task(definition, locate=locate_corpus("mlm")), description=definition.description)
