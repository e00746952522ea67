"""The HNN plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)


@hookimpl
def register_task_types(registry):
    from mtdnn_hnn.task_type import CandidateChoice

    registry.add("candidate_choice", CandidateChoice(), description="choose a pronoun's antecedent among candidates")


@hookimpl
def register_data_formats(registry):
    from mtdnn_hnn.formats import WinogradFormat

    registry.add("Winograd", WinogradFormat(), description="WSC/PDP/DPRD/WNLI-annotated TSV (by header) or WSC XML")


@hookimpl
def register_heads(registry):
    from mtdnn_hnn.head import HnnHead

    registry.add("hnn", HnnHead, config=HnnHead.Config)


@hookimpl
def register_losses(registry):
    from mtdnn_hnn.losses import HybridLoss

    registry.add("hnn", HybridLoss, config=HybridLoss.Config)


@hookimpl
def register_metrics(registry):
    from mtdnn_hnn.metrics import METRICS

    for metric in METRICS:
        registry.add(metric.name, metric, description=metric.description)


@hookimpl
def register_tasks(registry):
    from mtdnn_hnn.tasks import tasks

    for task in tasks():
        registry.add(task.name, task, description=task.definition.description)


@hookimpl
def register_commands(cli):
    from mtdnn_hnn.cli import hnn

    cli.add_command(hnn)


@hookimpl
def write_predictions(dataset, output, prefix):
    """WNLI test predictions also as ``wnli_test.<tag>.json`` for ``mtdnn glue submit``."""
    from mtdnn_hnn.glue_wnli import is_wnli_test, write_glue_wnli

    if is_wnli_test(dataset, output):
        write_glue_wnli(dataset, output, prefix)


@hookimpl
def export_head(head, task):
    """The HNN head as transformers custom code with its own pipeline (``mtdnn export``)."""
    from mtdnn_hnn.head import HnnHead

    if not isinstance(head, HnnHead):
        return None
    from mtdnn_hnn.export import hnn_export

    return hnn_export(head)
