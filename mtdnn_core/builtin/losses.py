"""Built-in losses, with the original toolkit's names as aliases."""
from mtdnn_core import losses
from mtdnn_core.hookspecs import hookimpl


@hookimpl
def register_losses(registry):
    # MlmCriterion: the original's masked-LM loss, cross-entropy over the masked tokens
    registry.add("ce", losses.CrossEntropy, aliases=("CeCriterion", "cross_entropy", "MlmCriterion"))
    registry.add("mse", losses.MeanSquaredError, aliases=("MseCriterion",))
    registry.add("rank_ce", losses.RankingCrossEntropy, aliases=("RankCeCriterion",))
    registry.add("seq_ce", losses.SequenceCrossEntropy, aliases=("SeqCeCriterion",))
    registry.add("kl", losses.KLDivergence, aliases=("KlCriterion",))
    registry.add("sym_kl", losses.SymmetricKL, aliases=("SymKlCriterion",))
