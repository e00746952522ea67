# The HNN head at inference, needing only torch and transformers: `mtdnn export` copies this file
# into the exported model's modeling_mtdnn.py. The masked-LM scorer (the encoder's own prediction
# head) and the similarity scorer of every candidate, and their combination.
import math

import torch
import torch.nn.functional as F
from torch import nn
from transformers import AutoConfig, AutoModelForMaskedLM


def mtdnn_attention_pool(hidden, mask, query):
    scores = torch.einsum("nlh,nh->nl", hidden, query) / math.sqrt(hidden.shape[-1])
    weights = torch.softmax(scores.float().masked_fill(~mask, float("-inf")), dim=-1).to(hidden.dtype)
    return torch.einsum("nl,nlh->nh", weights, hidden)


def mtdnn_mean_pool(hidden, mask):
    weights = mask.to(hidden.dtype)
    return torch.einsum("nl,nlh->nh", weights, hidden) / weights.sum(1, keepdim=True)


def mtdnn_first_pool(hidden, mask):
    first = mask.float().argmax(1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), first]


class MtdnnSpanPooler(nn.Module):
    def __init__(self, hidden_size, pooling):
        super().__init__()
        self.pooling = pooling
        self.query = nn.Linear(hidden_size, hidden_size, bias=False) if pooling == "attention" else None

    def forward(self, hidden, pronoun_mask, span_mask):
        if self.pooling == "attention":
            first = hidden[:, 0]
            return (mtdnn_attention_pool(hidden, pronoun_mask, first),
                    mtdnn_attention_pool(hidden, span_mask, self.query(first)))
        pool = mtdnn_mean_pool if self.pooling == "mean" else mtdnn_first_pool
        return pool(hidden, pronoun_mask), pool(hidden, span_mask)


class MtdnnSimilarity(nn.Module):
    def __init__(self, hidden_size, kind):
        super().__init__()
        self.bilinear = nn.Linear(hidden_size, hidden_size, bias=False) if kind == "bilinear" else None

    def forward(self, pronoun, candidate):
        if self.bilinear is None:
            return F.cosine_similarity(pronoun.float(), candidate.float(), dim=-1, eps=1e-9)
        return (self.bilinear(candidate) * pronoun).sum(-1).float()

    def probability(self, score):
        return (score + 1) / 2 if self.bilinear is None else torch.sigmoid(score)


class MtdnnHnnHead(nn.Module):
    """`batch` as the export's pipeline builds it (candidate_mask, mask_rows/positions/targets/
    slots, sim_rows, pronoun_mask, span_mask); returns `logits` (the hybrid score of each
    candidate), `lm` (mean log-probability of its tokens), `sim` and `sim_prob`."""

    def __init__(self, config):
        super().__init__()
        settings, hidden = config.head_settings, config.hidden_size
        self.settings = settings
        self.pooler = MtdnnSpanPooler(hidden, settings["pooling"])
        self.similarity = MtdnnSimilarity(hidden, settings["similarity"])
        masked_lm = AutoModelForMaskedLM.from_config(AutoConfig.for_model(**config.encoder))
        self.mlm = next(m for m in masked_lm.children() if type(m).__name__ == settings["mlm_class"])  # its prediction head

    def forward(self, hidden, batch):
        mask = batch["candidate_mask"]
        states = hidden[batch["mask_rows"], batch["mask_positions"]]
        log_probs = torch.log_softmax(self.mlm(states).float(), dim=-1)
        token = log_probs.gather(1, batch["mask_targets"].unsqueeze(1)).squeeze(1)
        slots = mask.shape[0] * mask.shape[1]
        total = torch.zeros(slots, device=hidden.device).index_add(0, batch["mask_slots"], token)
        count = torch.zeros(slots, device=hidden.device).index_add(0, batch["mask_slots"], torch.ones_like(token))
        lm = (total / count.clamp_min(1)).view(mask.shape)
        pronoun, candidate = self.pooler(hidden[batch["sim_rows"]], batch["pronoun_mask"], batch["span_mask"])
        sim = torch.zeros(mask.shape, device=hidden.device, dtype=torch.float).masked_scatter(
            mask, self.similarity(pronoun, candidate))
        sim_prob = self.similarity.probability(sim)
        share = self.settings["lm_share"]
        if self.settings["combine"] == "raw":
            hybrid = share * lm.exp() + (1 - share) * sim_prob
        else:
            lm_dist = torch.softmax(lm.masked_fill(~mask, float("-inf")), dim=1)
            sim_masked = sim_prob.masked_fill(~mask, 0.0)
            hybrid = share * lm_dist + (1 - share) * sim_masked / sim_masked.sum(1, keepdim=True).clamp_min(1e-12)
        zero = torch.zeros_like(lm)
        return {"logits": torch.where(mask, hybrid, zero), "lm": torch.where(mask, lm, zero), "sim": sim,
                "sim_prob": torch.where(mask, sim_prob, zero)}
