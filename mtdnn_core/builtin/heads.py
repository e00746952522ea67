"""Built-in heads: pooler (classification/regression), ranking, SAN, per-token."""
from mtdnn_core.hookspecs import hookimpl
from mtdnn_core.model.heads import PoolerHead, RankingHead, TokenHead
from mtdnn_core.model.mlm_head import MaskedLMHead
from mtdnn_core.model.san import SANHead


@hookimpl
def register_heads(registry):
    registry.add("pooler", PoolerHead, config=PoolerHead.Config, aliases=("linear",))
    registry.add("ranking", RankingHead, config=RankingHead.Config)
    registry.add("san", SANHead, config=SANHead.Config, description="stochastic answer network (multi-turn reasoning)")
    registry.add("token", TokenHead, config=TokenHead.Config)
    registry.add("mlm", MaskedLMHead, config=MaskedLMHead.Config,
                 description="masked-LM prediction head, decoder tied to the word embeddings")
