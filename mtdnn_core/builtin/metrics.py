"""Built-in metrics, with the original toolkit's names (ACC, F1, MCC, ...) as aliases."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.metrics import BUILTIN_METRICS


@hookimpl
def register_metrics(registry):
    for name, (metric, aliases) in BUILTIN_METRICS.items():
        registry.add(name, metric, aliases=tuple(aliases), description=metric.description)
