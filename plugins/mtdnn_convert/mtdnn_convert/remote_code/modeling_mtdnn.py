# An mtdnn task exported as a transformers custom-code model: the fine-tuned encoder (any
# transformers encoder, rebuilt from the `encoder` sub-config) and the task's head, whose class is
# defined further down in this file. Needs only torch and transformers.
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import (QuestionAnsweringModelOutput, SequenceClassifierOutput,
                                           TokenClassifierOutput)


class MtdnnExportConfig(PretrainedConfig):
    """`encoder`: the encoder's own config (a dict with its model_type); `head_class`: the head's
    class in this file; `head_settings`: its options; `special_token_ids`: the tokenizer's
    special tokens (they belong to no text); `use_token_types`: whether the encoder reads
    token_type_ids (as it did in training)."""

    model_type = "mtdnn-export"

    def __init__(self, encoder=None, head_class=None, head_settings=None, special_token_ids=None,
                 use_token_types=True, max_seq_len=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = dict(encoder or {})
        self.head_class = head_class
        self.head_settings = dict(head_settings or {})
        self.special_token_ids = list(special_token_ids or [])
        self.use_token_types = use_token_types
        self.max_seq_len = max_seq_len

    @property
    def hidden_size(self):
        return self.encoder.get("hidden_size")


def segment_ids(input_ids, attention_mask, token_type_ids, special_token_ids, use_token_types):
    """Which text each token belongs to, as mtdnn computes it from the tokenizer's sequence ids:
    0 the first text, 1 the second, -1 special tokens and padding. The second text is where the
    token types say so (encoders with token types) or else after the special tokens that follow
    the first text (`<s> A </s></s> B </s>`)."""
    special = torch.isin(input_ids, torch.tensor(special_token_ids, dtype=input_ids.dtype, device=input_ids.device))
    special = special | (attention_mask == 0)
    if use_token_types and token_type_ids is not None:
        second = token_type_ids > 0
    else:
        before = torch.cumsum(special.long(), dim=1) - special.long()  # special tokens before each position
        content = ~special
        first_content = torch.where(content.any(1), content.long().argmax(1), torch.zeros_like(content[:, 0], dtype=torch.long))
        leading = before.gather(1, first_content.unsqueeze(1))
        second = before > leading
    segments = second.long()
    return segments.masked_fill(special, -1)


class MtdnnPreTrainedModel(PreTrainedModel):
    config_class = MtdnnExportConfig
    base_model_prefix = "encoder"
    _supports_sdpa = True

    def __init__(self, config):
        super().__init__(config)
        encoder_config = AutoConfig.for_model(**config.encoder)
        self.encoder = AutoModel.from_config(encoder_config)
        self.head = globals()[config.head_class](config)
        self.post_init()

    def _init_weights(self, module):  # every weight comes from the export
        pass

    def run(self, input_ids, attention_mask=None, token_type_ids=None, **extra):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self.config.use_token_types and token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**kwargs, return_dict=True).last_hidden_state
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
                 "segment_ids": segment_ids(input_ids, attention_mask, token_type_ids, self.config.special_token_ids,
                                            self.config.use_token_types), **extra}
        return self.head(hidden, batch)


class MtdnnForSequenceClassification(MtdnnPreTrainedModel):
    """`logits` [batch, labels] (log-probabilities for SAN; softmax gives mtdnn's scores) or
    [batch, 1] for regression and ranking scores."""

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
        logits = self.run(input_ids, attention_mask, token_type_ids)
        return SequenceClassifierOutput(logits=logits.reshape(logits.shape[0], -1))


class MtdnnForTokenClassification(MtdnnPreTrainedModel):
    """`logits` [batch, tokens, labels]; the tag of a word is the arg-max at its first sub-token.
    `word_ids` [batch, tokens] (-1 for special tokens and padding, as `BatchEncoding.word_ids`)
    says where words start; without it every token that is not special starts a word."""

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, word_ids=None, **kwargs):
        if word_ids is None:
            special = torch.isin(input_ids, torch.tensor(self.config.special_token_ids, dtype=input_ids.dtype,
                                                         device=input_ids.device))
            word_ids = torch.cumsum((~special).long(), dim=1) - 1
            word_ids = word_ids.masked_fill(special, -1)
        logits = self.run(input_ids, attention_mask, token_type_ids, word_ids=word_ids)
        return TokenClassifierOutput(logits=logits)


class MtdnnForQuestionAnswering(MtdnnPreTrainedModel):
    """`start_logits` and `end_logits` [batch, tokens]."""

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **kwargs):
        logits = self.run(input_ids, attention_mask, token_type_ids)
        return QuestionAnsweringModelOutput(start_logits=logits[..., 0], end_logits=logits[..., 1])


class MtdnnModel(MtdnnPreTrainedModel):
    """Heads with inputs of their own (keyword tensors, handed to the head in `batch`, as the
    export's pipeline builds them): the head's outputs, a dict of tensors."""

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **extra):
        return self.run(input_ids, attention_mask, token_type_ids, **extra)
