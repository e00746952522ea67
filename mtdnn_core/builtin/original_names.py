"""Names the original MT-DNN toolkit uses in task-definition files, by kind.

Task-definition files written for the original (master and the v0.x releases) name task types,
data formats, losses, metrics and encoder types by these spellings. Registries alias the ones
this project provides; the rest are still recognised, so that a file using them loads, a task
that needs one is reported as not provided (instead of as a typo with a misleading
did-you-mean), and a name used for the wrong kind of thing is said to be so.
"""
from __future__ import annotations

ORIGINAL_NAMES: dict[str, tuple[str, ...]] = {
    "task type": (
        "Classification", "Regression", "Ranking", "Span", "SpanYN", "SpanClassification",
        "SpanClassificationYN", "SeqenceLabeling", "MaskLM", "SpanSeqenceLabeling", "SeqenceGeneration",
        "SeqenceGenerationMRC", "EncSeqenceGeneration", "ClozeChoice",
    ),
    "data format": (
        "PremiseOnly", "PremiseAndOneHypothesis", "PremiseAndMultiHypothesis", "MRC", "Seqence", "MLM",
        "CLUE_CLASSIFICATION", "CLUE_SPAN", "CLUE_SEQ", "CLUE_GEN", "ClozeChoice",
    ),
    "loss": (
        "CeCriterion", "MseCriterion", "RankCeCriterion", "SpanCeCriterion", "SeqCeCriterion", "MlmCriterion",
        "KlCriterion", "SymKlCriterion", "NsKlCriterion", "NsSymKlCriterion", "JSCriterion", "HLCriterion",
    ),
    "metric": (
        "ACC", "F1", "MCC", "Pearson", "Spearman", "AUC", "SeqEval", "EmF1", "F1MAC", "F1MIC", "CMAT", "EmF12",
        "SeqEvalList", "NERACC",
    ),
    "encoder type": (
        "BERT", "ROBERTA", "XLNET", "SAN", "XLM", "DEBERTA", "ELECTRA", "T5", "T5G", "MSRT5G", "MSRT5",
        "MSRLONGT5G", "MSRLONGT5",
    ),
    # keys of task definitions the core does not define: a plugin declares them
    # (register_task_def_fields); without it, they load and are unused
    "task definition key": ("kd_loss", "adv_loss"),
}


def original_kinds(name: str) -> list[str]:
    """The kinds of thing (``"task type"``, ``"data format"``, ...) the original calls ``name``."""
    return [kind for kind, names in ORIGINAL_NAMES.items() if name in names]


def is_original(kind: str, name: str) -> bool:
    return name in ORIGINAL_NAMES.get(kind, ())
