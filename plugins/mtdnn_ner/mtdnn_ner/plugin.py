"""The NER plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)


def _seqeval(key: str, strict: bool):
    def fn(golds, preds, scores=None):
        from mtdnn_ner.entities import report

        return report(list(golds), list(preds), strict=strict)["overall"][key] / 100.0

    return fn


def _report(golds, preds, scores=None):
    from mtdnn_ner.entities import report

    return report(list(golds), list(preds))


@hookimpl
def register_metrics(registry):
    from mtdnn_core.api import Metric

    registry.add("seqeval_f1", Metric("seqeval_f1", _seqeval("f1", False), description="entity F1, conlleval-compatible"),
                 aliases=("SeqEval",))
    registry.add("seqeval_precision", Metric("seqeval_precision", _seqeval("precision", False)))
    registry.add("seqeval_recall", Metric("seqeval_recall", _seqeval("recall", False)))
    registry.add("seqeval_f1_strict", Metric("seqeval_f1_strict", _seqeval("f1", True), description="entity F1, strict IOB2"))
    registry.add("seqeval_report", Metric("seqeval_report", _report, scale=1, description="P/R/F1/support per entity type"))


@hookimpl
def register_data_formats(registry):
    from mtdnn_ner.formats import FORMATS

    for data_format in FORMATS:
        registry.add(data_format.name, data_format, description=f"CoNLL column file, tags from column {data_format.column}")


@hookimpl
def register_tasks(registry):
    from mtdnn_ner.tasks import tasks

    for task in tasks():
        registry.add(task.name, task, description=task.definition.description)


@hookimpl
def register_heads(registry):
    from mtdnn_ner.crf import CRFHead

    registry.add("crf", CRFHead, config=CRFHead.Config, description="linear-chain CRF over words, Viterbi decoding")


@hookimpl
def register_commands(cli):
    from mtdnn_ner.cli import ner

    cli.add_command(ner)


@hookimpl
def write_predictions(dataset, output, prefix):
    """CoNLL columns (word, gold, predicted) that conlleval reads, and a per-type score table."""
    if not output.get("words"):  # only sequence labeling outputs carry the words
        return
    from mtdnn_ner.outputs import write_conll_predictions

    write_conll_predictions(dataset.task, output, prefix)


@hookimpl
def export_head(head, task):
    """The CRF head as transformers custom code (``mtdnn export``)."""
    from mtdnn_ner.crf import CRFHead

    if not isinstance(head, CRFHead):
        return None
    from pathlib import Path

    from mtdnn_core.api import HeadExport
    from mtdnn_ner import crf_inference

    weights = {k: v.detach().clone() for k, v in head.state_dict().items()}
    return HeadExport("MtdnnCRFHead", Path(crf_inference.__file__).read_text(encoding="utf-8"), weights,
                      "token-classification",
                      notes=("A word's tag is the CRF's Viterbi decision over the words of its window; its `score` "
                             "is 1.0 (the CRF gives no per-word probability).",))
