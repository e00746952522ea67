"""Built-in task types, with the original toolkit's spellings as aliases."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.task_types.classification import Classification
from mtdnn_core.task_types.masked_lm import MaskedLM
from mtdnn_core.task_types.ranking import Ranking
from mtdnn_core.task_types.regression import Regression
from mtdnn_core.task_types.sequence_labeling import SequenceLabeling


@hookimpl
def register_task_types(registry):
    registry.add("classification", Classification(), aliases=("Classification",),
                 description="one label per text or pair, softmax over classes")
    registry.add("regression", Regression(), aliases=("Regression",), description="one real value per text or pair")
    registry.add("ranking", Ranking(), aliases=("Ranking",), description="pick the right candidate of a sample")
    registry.add("sequence_labeling", SequenceLabeling(), aliases=("SequenceLabeling", "SeqenceLabeling"),
                 description="one tag per word (first sub-token), long sentences windowed")
    registry.add("masked_lm", MaskedLM(), aliases=("MaskLM", "MaskedLM"),
                 description="predict masked tokens of text blocks (masked-LM pre-training as a task)")
