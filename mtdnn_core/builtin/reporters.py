"""Built-in reporters. Modules are named here, imported when a run asks for them."""
from mtdnn_core.hookspecs import hookimpl


def _jsonl(run):
    from mtdnn_core.reporting.jsonl import JsonlReporter

    return JsonlReporter(run)


def _tensorboard(run):
    from mtdnn_core.reporting.tensorboard import TensorBoardReporter

    return TensorBoardReporter(run)


@hookimpl
def register_reporters(registry):
    registry.add("jsonl", _jsonl, description="the run's log, OUTPUT_DIR/log.jsonl (read by mtdnn plot)")
    registry.add("tensorboard", _tensorboard, description="scalars for TensorBoard in OUTPUT_DIR/tensorboard")
