# mtdnn's own heads (pooler with any activation, ranking, SAN) in inference form, needing only
# torch. A head is built as `cls(config)` from the export's config and called as
# `head(hidden [batch, tokens, hidden], batch)` with input_ids, attention_mask, token_type_ids
# and segment_ids (0 first text, 1 second, -1 special tokens) in `batch`.
import torch
from torch import nn

MTDNN_ACTIVATIONS = {"tanh": nn.Tanh, "gelu": nn.GELU, "relu": nn.ReLU}


class MtdnnPoolerHead(nn.Module):
    """First token -> Linear(H, H) -> activation -> Linear(H, n): one row per input (a ranking
    head scores each premise-candidate pair with one output)."""

    def __init__(self, config):
        super().__init__()
        hidden = config.hidden_size
        self.dense = nn.Linear(hidden, hidden)
        self.activation = MTDNN_ACTIVATIONS[config.head_settings["activation"]]()
        self.out = nn.Linear(hidden, config.head_settings["n_out"])

    def forward(self, hidden, batch):
        return self.out(self.activation(self.dense(hidden[:, 0])))


MTDNN_NEG = -1e4


def mtdnn_masked_softmax(scores, mask):
    return torch.softmax(scores.float().masked_fill(~mask, MTDNN_NEG), dim=-1)


class MtdnnSANHead(nn.Module):
    """The stochastic answer network at inference: the mean of every turn's probabilities,
    returned as log-probabilities (softmax of them gives the probabilities back)."""

    def __init__(self, config):
        super().__init__()
        settings, h = config.head_settings, config.hidden_size
        self.turns, self.attention, self.merge = settings["turns"], settings["attention"], settings["merge"]
        self.query_summary = nn.Linear(h, 1)
        if self.attention == "bilinear":
            self.attn = nn.Linear(h, h, bias=False)
        elif self.attention == "flat":
            self.attn = nn.Linear(3 * h, 1)
        else:
            self.attn = None
        self.rnn = nn.GRUCell(h, h)
        self.classifier = nn.Linear((4 if self.merge == "full" else 2) * h, settings["n_out"])

    def _attend(self, memory, state, mask):
        if self.attention == "bilinear":
            scores = torch.bmm(memory, self.attn(state).unsqueeze(2)).squeeze(2)
        elif self.attention == "simple":
            scores = torch.bmm(memory, state.unsqueeze(2)).squeeze(2)
        else:
            expanded = state.unsqueeze(1).expand_as(memory)
            scores = self.attn(torch.cat([memory, expanded, memory * expanded], dim=-1)).squeeze(2)
        weights = mtdnn_masked_softmax(scores, mask).to(memory.dtype)
        return torch.bmm(weights.unsqueeze(1), memory).squeeze(1)

    def forward(self, hidden, batch):
        segments = batch["segment_ids"]
        premise, hypothesis = segments == 0, segments == 1
        no_hyp = ~hypothesis.any(1, keepdim=True)  # single-sentence inputs: query the premise
        hypothesis = torch.where(no_hyp, premise, hypothesis)
        query_weights = mtdnn_masked_softmax(self.query_summary(hidden).squeeze(2), hypothesis).to(hidden.dtype)
        state = torch.bmm(query_weights.unsqueeze(1), hidden).squeeze(1)
        probs = []
        for _ in range(self.turns):
            x = self._attend(hidden, state, premise)
            feats = [x, state, (x - state).abs(), x * state] if self.merge == "full" else [x, state]
            probs.append(torch.softmax(self.classifier(torch.cat(feats, dim=-1)).float(), dim=-1))
            state = self.rnn(x, state)
        return torch.log(torch.stack(probs, dim=1).mean(1).clamp_min(1e-12))


class MtdnnTokenHead(nn.Module):
    """Linear(H, n) on every token (for encoders without a token-classification class)."""

    def __init__(self, config):
        super().__init__()
        self.out = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden, batch):
        return self.out(hidden)
