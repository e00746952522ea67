"""The SQuAD plugin's hook implementations."""
from __future__ import annotations

from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the mtdnn plugin API this plugin is written for (mtdnn_core.api)


@hookimpl
def register_task_types(registry):
    from mtdnn_squad.task_types import Span, SpanV2

    registry.add("span", Span(), aliases=("Span", "SpanClassification"), description="extractive answer span (SQuAD 1.1), long contexts windowed")
    registry.add("span_v2", SpanV2(), aliases=("SpanYN", "SpanClassificationYN"), description="answer span or no answer (SQuAD 2.0)")


@hookimpl
def register_data_formats(registry):
    from mtdnn_squad.formats import SquadJson

    registry.add("squad_json", SquadJson(), aliases=("CLUE_SPAN", "MRC"), description="official SQuAD 1.1 / 2.0 JSON")


@hookimpl
def register_heads(registry):
    from mtdnn_squad.head import SpanHead

    registry.add("span", SpanHead, config=SpanHead.Config, description="per-token Linear(H, 2): start and end logits")


@hookimpl
def register_losses(registry):
    from mtdnn_squad.loss import SpanCrossEntropy

    registry.add("span_ce", SpanCrossEntropy, aliases=("SpanCeCriterion",))


@hookimpl
def register_metrics(registry):
    from mtdnn_squad.metrics import metrics

    for metric, aliases in metrics():
        registry.add(metric.name, metric, aliases=aliases, description=metric.description)


@hookimpl
def register_tasks(registry):
    from mtdnn_squad.tasks import tasks

    for task in tasks():
        registry.add(task.name, task, description=task.definition.description)


@hookimpl
def register_commands(cli):
    from mtdnn_squad.cli import squad

    cli.add_command(squad)


@hookimpl
def write_predictions(dataset, output, prefix):
    """predictions.json, nbest_predictions.json and (SQuAD 2.0) null_odds.json beside the score file."""
    from mtdnn_squad.task_types import Span

    if isinstance(dataset.task_type, Span):
        from mtdnn_squad.outputs import write_squad_predictions

        write_squad_predictions(output, prefix)


@hookimpl
def export_head(head, task):
    """The span head as transformers custom code (``mtdnn export``), with the task's windowing
    and decoding settings for the exported question-answering pipeline."""
    from mtdnn_squad.head import SpanHead

    if not isinstance(head, SpanHead):
        return None
    from pathlib import Path

    from mtdnn_core.api import HeadExport
    from mtdnn_squad import span_inference
    from mtdnn_squad.settings import span_settings

    settings = span_settings(task).model_dump()
    settings["allows_no_answer"] = task.task_type.lower() in ("span_v2", "spanyn", "spanclassificationyn")
    note = (f"The pipeline (`pipeline_mtdnn.py`) decodes as `mtdnn predict`: the question cut to "
            f"{settings['max_query_length']} tokens, the context in windows sharing {settings['doc_stride']} tokens, "
            f"each window's {settings['n_best']} best spans of at most {settings['max_answer_length']} tokens scored by "
            f"start + end logit, the best distinct text over all windows. It answers `answer`, `start`/`end` "
            f"(characters of the context) and `score` (the answer's probability among those candidates)"
            + (f"; with `null_odds` (the lowest CLS score minus the best span's) above {settings['null_threshold']} "
               f"the answer is \"\"." if settings["allows_no_answer"] else "."))
    return HeadExport("MtdnnSpanHead", Path(span_inference.__file__).read_text(encoding="utf-8"),
                      {k: v.detach().clone() for k, v in head.state_dict().items()}, "question-answering", settings,
                      (note,))
