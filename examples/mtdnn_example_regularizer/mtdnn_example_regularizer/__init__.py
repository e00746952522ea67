"""A regularizer as a plugin: the confidence penalty of Pereyra et al. (2017), which subtracts
``beta`` times the entropy of the predicted distribution from the loss, so that a model is not
rewarded for over-confident outputs. Classification tasks only; other tasks get no term."""
import torch
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.api import Regularizer, hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


class ConfidencePenaltyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    beta: float = Field(default=0.1, gt=0, description="weight of the (negative) entropy term")


class ConfidencePenalty(Regularizer):
    """``term = -beta * mean entropy of softmax(logits)``, added to the batch's loss."""

    # What it needs from the run, read by ``Regularizer.check`` when the run is planned: it reads
    # only the outputs the trainer computed (no extra forward pass, no hooks, no model copy), so
    # it runs under torchrun, with --compile and with --fsdp (sharded weights); it adds to the
    # task loss rather than replacing it.
    supports_distributed = True
    supports_compile = True
    supports_fsdp = True

    def __init__(self, registries, config: ConfidencePenaltyConfig):
        self.beta = config.beta
        self.entropy = None

    def applies(self, task):
        return task.task_type == "classification"

    def __call__(self, model, task, batch, logits, loss):
        if not self.applies(task):
            return None  # no term for this batch
        log_p = torch.log_softmax(logits.float(), dim=-1)
        entropy = -(log_p.exp() * log_p).sum(-1).mean()
        self.entropy = entropy.detach()
        return -self.beta * entropy

    def log_values(self):
        """Logged as ``reg_confidence_penalty_entropy`` beside the term itself."""
        return {} if self.entropy is None else {"entropy": float(self.entropy)}


@hookimpl
def register_regularizers(registry):
    registry.add("confidence_penalty", ConfidencePenalty, config=ConfidencePenaltyConfig)
