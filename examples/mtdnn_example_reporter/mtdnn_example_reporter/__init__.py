"""A reporter as a plugin: every evaluated metric as a row of ``<output dir>/evaluations.csv``
(step, epoch, dataset, metric, value), for a spreadsheet. A resumed run appends to the file."""
import csv

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


class CsvReporter:
    """Built once per run that names ``csv`` in ``--report-to``; its ``@hookimpl`` methods
    observe that run only."""

    def __init__(self, run):  # run.output_dir, run.config (TrainConfig), run.tasks
        self.path = run.output_dir / "evaluations.csv"
        self.file = None

    @hookimpl
    def on_train_begin(self, run):
        new = not self.path.exists()
        self.file = open(self.path, "a", newline="", encoding="utf-8")
        self.writer = csv.writer(self.file)
        if new:
            self.writer.writerow(["step", "epoch", "dataset", "metric", "value"])

    @hookimpl
    def on_evaluate(self, dataset, epoch, step, metrics):
        for name, value in metrics.items():
            if isinstance(value, float):  # scalars only (not a confusion matrix)
                self.writer.writerow([step, epoch, dataset, name, value])
        self.file.flush()

    def close(self):
        """Called when the run ends, also after an error."""
        if self.file is not None:
            self.file.close()


@hookimpl
def register_reporters(registry):
    registry.add("csv", CsvReporter)
