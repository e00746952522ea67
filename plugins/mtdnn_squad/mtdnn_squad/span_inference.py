# The span head at inference, needing only torch: `mtdnn export` copies this file into the
# exported model's modeling_mtdnn.py. A start and an end logit for every token.
import torch
from torch import nn

MTDNN_PADDING_LOGIT = -1e4


class MtdnnSpanHead(nn.Module):
    """Linear(H, 2) on every token: `[batch, tokens, 2]` (start, end), padding at -1e4."""

    def __init__(self, config):
        super().__init__()
        self.out = nn.Linear(config.hidden_size, 2)

    def forward(self, hidden, batch):
        logits = self.out(hidden)
        padding = ~batch["attention_mask"].bool().unsqueeze(-1)
        return logits.masked_fill(padding, MTDNN_PADDING_LOGIT)
