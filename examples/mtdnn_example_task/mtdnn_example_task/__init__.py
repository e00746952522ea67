"""Counting words as a new kind of task: a data format (the rows), a task type (what is
predicted and how outputs become predictions), a metric and a ready-made task.

The label of a row is not in the file: the data format computes it (the number of words), so
any text file with a uid column trains."""
from mtdnn_core.api import Decoder, Example, Metric, PremiseOnly, Task, TaskDef, TaskType, hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


class CountText(PremiseOnly):
    """``uid, text``: one sentence per row; its label is its number of words. Encoding (one text
    per row) is PremiseOnly's."""

    name = "CountText"
    min_columns = max_columns = 2
    columns = "uid, text"

    def parse_row(self, row, task, task_type, where):
        label = task_type.parse_label(str(len(row[1].split())), task, where)
        return Example(uid=row[0], label=label, texts=[row[1]])


class RoundedDecoder(Decoder):
    """Collects one dataset's outputs; predictions are whole counts, scores the raw values."""

    def __init__(self):
        self.out = {"uids": [], "predictions": [], "scores": [], "golds": []}

    def add(self, rows, batch, outputs):
        values = outputs.float().view(-1).tolist()
        self.out["uids"] += batch["uids"]
        self.out["scores"] += values
        self.out["predictions"] += [max(0, round(v)) for v in values]
        self.out["golds"] += [r.get("label") for r in rows]

    def result(self):
        return self.out


class WordCount(TaskType):
    """A regression on one value per row, decoded to a whole number."""

    name = "word_count"
    formats = ("CountText",)
    default_head = "pooler"
    default_loss = "mse"
    default_metrics = ("exact_count",)

    def default_n_class(self, task):
        return 1  # one output: the count

    def parse_label(self, raw, task, where):
        return float(raw)

    def label_tensor(self, labels):
        import torch

        return torch.tensor(labels, dtype=torch.float)

    def decoder(self, task, head):
        return RoundedDecoder()


def exact_count(golds, preds, scores=None):
    """Share of rows whose predicted count is exactly right."""
    return float((golds == preds).mean())


@hookimpl
def register_data_formats(registry):
    registry.add("CountText", CountText())


@hookimpl
def register_task_types(registry):
    registry.add("word_count", WordCount())


@hookimpl
def register_metrics(registry):
    registry.add("exact_count", Metric("exact_count", exact_count, description="share of exact counts"))


@hookimpl
def register_tasks(registry):
    definition = TaskDef(name="wordcount", task_type="word_count", data_format="CountText",
                         description="count the words of a sentence: wordcount_{train,dev,test}.tsv (uid, text)")
    registry.add("wordcount", Task(definition), description=definition.description)
