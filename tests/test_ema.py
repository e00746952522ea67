"""The weight average against a hand computation, and its round trip through a file."""
import pytest
import torch
from torch import nn

from mtdnn_core.training.ema import WeightAverage


def test_ema_matches_the_recurrence_by_hand(tmp_path):
    model = nn.Linear(1, 1, bias=False)
    ema = WeightAverage(model, decay=0.9)
    values = [1.0, 2.0, 4.0]
    for value in values:
        with torch.no_grad():
            model.weight.fill_(value)
        ema.update(model)
    # starts at the first update's weights: 1; then 0.9 * 1 + 0.1 * 2 = 1.1; 0.9 * 1.1 + 0.1 * 4 = 1.39
    assert ema.model.weight.item() == pytest.approx(1.39)
    assert model.weight.item() == 4.0  # the trained weights are untouched
    assert ema.updates == 3
    ema.save(tmp_path / "ema.safetensors")
    again = WeightAverage(nn.Linear(1, 1, bias=False), decay=0.9)
    again.load(tmp_path / "ema.safetensors", updates=ema.updates)
    with torch.no_grad():
        model.weight.fill_(10.0)
    again.update(model)
    assert again.model.weight.item() == pytest.approx(0.9 * 1.39 + 0.1 * 10.0)


def test_decay_outside_the_unit_interval_is_refused():
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(nn.Linear(1, 1), decay=1.0)
