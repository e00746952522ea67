# The CRF head at inference, needing only torch: `mtdnn export` copies this file into the
# exported model's modeling_mtdnn.py. Emissions (Linear) per token, Viterbi over the first
# sub-token of each word (`batch["word_ids"]`, -1 for special tokens and padding).
import torch
from torch import nn

MTDNN_CRF_OTHER = -1e4  # the logit of every tag but the Viterbi one at a word's first sub-token


def mtdnn_first_subtokens(word_ids):
    previous = torch.cat([torch.full_like(word_ids[:, :1], -1), word_ids[:, :-1]], dim=1)
    return (word_ids >= 0) & (word_ids != previous)


def mtdnn_compact(values, mask):
    """Masked positions moved to the front: (values [B, W, ...], word mask [B, W], source positions)."""
    order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
    width = max(int(mask.sum(1).max()), 1)
    order = order[:, :width]
    word_mask = torch.arange(width, device=mask.device)[None, :] < mask.sum(1, keepdim=True)
    index = order.view(*order.shape, *([1] * (values.dim() - 2))).expand(-1, -1, *values.shape[2:])
    return values.gather(1, index), word_mask, order


class MtdnnCRF(nn.Module):
    def __init__(self, n_tags):
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))

    def viterbi(self, emissions, mask):
        score = self.start + emissions[:, 0]
        back = []
        for t in range(1, emissions.shape[1]):
            best, index = (score.unsqueeze(2) + self.transitions).max(dim=1)
            keep = mask[:, t : t + 1]
            score = torch.where(keep, best + emissions[:, t], score)
            identity = torch.arange(score.shape[1], device=score.device).expand_as(index)
            back.append(torch.where(keep, index, identity))
        best = (score + self.end).argmax(1)
        path = [best]
        for index in reversed(back):
            best = index.gather(1, best.unsqueeze(1)).squeeze(1)
            path.append(best)
        return torch.stack(path[::-1], dim=1)


class MtdnnCRFHead(nn.Module):
    """`logits` [batch, tokens, tags]: at a word's first sub-token 0 for the Viterbi tag and
    -1e4 for the others (a softmax score of 1.0), elsewhere the emissions."""

    def __init__(self, config):
        super().__init__()
        self.emissions = nn.Linear(config.hidden_size, config.num_labels)
        self.crf = MtdnnCRF(config.num_labels)

    def forward(self, hidden, batch):
        emissions = self.emissions(hidden).float()
        mask = mtdnn_first_subtokens(batch["word_ids"])
        compacted, word_mask, order = mtdnn_compact(emissions, mask)
        best = self.crf.viterbi(compacted, word_mask)
        tags = torch.zeros(emissions.shape[:2], dtype=torch.long, device=emissions.device)
        tags = tags.scatter(1, order, torch.where(word_mask, best, tags.gather(1, order)))
        decided = torch.full_like(emissions, MTDNN_CRF_OTHER).scatter(2, tags.unsqueeze(2), 0.0)
        return torch.where(mask.unsqueeze(2), decided, emissions)
