"""A custom loss as a plugin: cross-entropy against labels smoothed towards the uniform
distribution (Szegedy et al., 2016), with per-sample weights as every mtdnn loss takes them."""
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field

from mtdnn_core.api import Loss, hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


class SmoothCEConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    smoothing: float = Field(default=0.1, ge=0, lt=1, description="probability mass spread over all classes")


class SmoothCrossEntropy(Loss):
    """``loss(logits [B, C], target [B], weights [B] or None) -> scalar``."""

    def __init__(self, config: SmoothCEConfig):
        super().__init__()
        self.smoothing = config.smoothing

    def forward(self, logits, target, weights=None):
        per_sample = F.cross_entropy(logits.float(), target, reduction="none", label_smoothing=self.smoothing)
        if weights is None:
            return per_sample.mean()
        weights = weights.to(per_sample.dtype)
        return (per_sample * weights).sum() / weights.sum().clamp_min(1e-12)


@hookimpl
def register_losses(registry):
    registry.add("smooth_ce", SmoothCrossEntropy, config=SmoothCEConfig)
