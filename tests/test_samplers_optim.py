"""Multi-task schedules and optimization, against what the definitions say."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
from torch import nn

from mtdnn_core import optim
from mtdnn_core.samplers import ProportionalSampler, TemperatureSampler, make_batches

LENGTHS = [[5, 9, 3, 7, 7, 2, 8, 1, 4, 6], [3] * 4, list(range(1, 8))]


def test_proportional_schedule_uses_every_sample_once_and_one_task_per_batch():
    sampler = ProportionalSampler(LENGTHS, batch_size=3, seed=7)
    schedule = sampler.schedule(0)
    seen = {t: Counter() for t in range(3)}
    for task, indices in schedule:
        assert len(indices) <= 3
        seen[task].update(indices)
    for t, lens in enumerate(LENGTHS):
        assert seen[t] == Counter(range(len(lens)))
    assert len(schedule) == 4 + 2 + 3
    assert sampler.schedule(0) == schedule  # deterministic from seed and epoch
    assert sampler.schedule(1) != schedule


def test_ratio_and_mix_opt_follow_the_original():
    sampler = ProportionalSampler([[1] * 12, [1] * 30, [1] * 30], batch_size=3, seed=0, ratio=0.5, mix_opt=1)
    schedule = sampler.schedule(0)
    main = [b for t, b in schedule if t == 0]
    aux = [b for t, b in schedule if t != 0]
    assert len(main) == 4 and len(aux) == 2  # int(4 * 0.5)
    assert all(t != 0 for t, _ in schedule[:2]) and all(t == 0 for t, _ in schedule[2:])  # auxiliary first


def test_length_bucketing_batches_hold_the_samples_they_claim():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, 103).tolist()
    batches = make_batches(lengths, 8, np.random.default_rng(1), bucketing=True)
    assert sorted(i for b in batches for i in b) == list(range(103))
    # within a batch lengths are close: the spread is far below the data's
    spreads = [max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches]
    assert np.median(spreads) < 15


def test_temperature_sampler_probabilities():
    sampler = TemperatureSampler([[1] * 100, [1] * 25], batch_size=5, seed=0, temperature=2.0)
    assert sampler.probabilities() == pytest.approx([10 / 15, 5 / 15])
    schedule = sampler.schedule(0)
    assert len(schedule) == 25
    counts = Counter(t for t, _ in TemperatureSampler([[1] * 100, [1] * 25], 1, temperature=2.0, steps=6000).schedule(0))
    assert counts[0] / 6000 == pytest.approx(2 / 3, abs=0.03)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(3, 3)
        self.norm = nn.LayerNorm(3)


def test_param_groups_skip_bias_and_layernorm():
    model = Tiny()
    decay, no_decay = optim.param_groups(model, 0.01)
    assert decay["params"] == [model.dense.weight]
    assert {id(p) for p in no_decay["params"]} == {id(model.dense.bias), id(model.norm.weight), id(model.norm.bias)}
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0


def test_adamax_weight_decay_is_decoupled_and_honoured():
    p = nn.Parameter(torch.tensor([1.0]))
    opt = optim.adamax([{"params": [p], "weight_decay": 0.1}], lr=0.5)
    p.grad = torch.tensor([0.0])  # no gradient: only the decay moves the weight
    opt.step()
    assert p.item() == pytest.approx(1.0 * (1 - 0.5 * 0.1))


@pytest.mark.parametrize("name", ["adamw", "radam"])
def test_decoupled_decay_with_zero_gradient(name):
    p = nn.Parameter(torch.tensor([2.0]))
    opt = getattr(optim, name)([{"params": [p], "weight_decay": 0.2}], lr=0.1)
    p.grad = torch.tensor([0.0])
    opt.step()
    assert p.item() == pytest.approx(2.0 * (1 - 0.1 * 0.2))


def test_schedules_by_formula():
    p = nn.Parameter(torch.zeros(1))

    def lrs(factory, **kw):
        opt = torch.optim.SGD([p], lr=1.0)
        sched = factory(opt, 2, 10, **kw)
        out = []
        for _ in range(10):
            out.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        return out

    # warm-up from 0 as the Hugging Face Trainer: step / warmup, the peak at step == warmup
    assert lrs(optim.linear_schedule)[:4] == pytest.approx([0.0, 0.5, 1.0, 0.875])
    assert lrs(optim.constant_schedule)[5] == 1.0
    assert lrs(optim.cosine_schedule)[6] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    assert lrs(optim.polynomial_schedule, power=2.0)[4] == pytest.approx((1 - 2 / 8) ** 2)
    assert lrs(optim.polynomial_schedule, end_factor=0.5)[6] == pytest.approx(0.5 + 0.5 * (1 - 4 / 8))
    assert lrs(optim.polynomial_schedule, end_factor=1.0)[9] == 1.0
    assert optim.warmup_steps(0.1, 200) == 20 and optim.warmup_steps(30, 200) == 30


def test_token_budget_batches_fill_with_short_samples():
    lengths = [10] * 20 + [100] * 4
    batches = make_batches(lengths, batch_size=4, rng=np.random.default_rng(0), bucketing=False, max_tokens=200)
    assert sorted(i for b in batches for i in b) == list(range(24))  # every sample exactly once
    assert all(max(lengths[i] for i in b) * len(b) <= 200 for b in batches)
    sizes = sorted(len(b) for b in batches)
    assert sizes == [2, 2, 20]  # twenty short samples share one batch; long ones go two by two


def test_annealed_temperature_follows_the_formula_over_epochs():
    from mtdnn_core.samplers import AnnealedTemperatureSampler

    sizes = [[1] * 100, [1] * 25]
    sampler = AnnealedTemperatureSampler(sizes, batch_size=5, seed=0, start=5.0, end=1.0)
    sampler.total_epochs = 3
    # alpha = 1/T moves 0.2 -> 0.6 -> 1.0: p ~ n ** alpha
    for epoch, alpha in enumerate([0.2, 0.6, 1.0]):
        expected = [100**alpha / (100**alpha + 25**alpha), 25**alpha / (100**alpha + 25**alpha)]
        assert sampler.probabilities(epoch) == pytest.approx(expected)
    assert sampler.probabilities(2) == pytest.approx([0.8, 0.2])
    # Stickland & Murray (2019): alpha = 1 - 0.8 (e - 1) / (E - 1), epochs counted from 1
    pals = AnnealedTemperatureSampler(sizes, batch_size=5, start=1.0, end=5.0)
    pals.total_epochs = 5
    for e in range(1, 6):
        assert pals.exponent(e - 1) == pytest.approx(1 - 0.8 * (e - 1) / 4)
    capped = AnnealedTemperatureSampler(sizes, batch_size=5, start=1.0, end=1.0, examples_cap=50)
    assert capped.probabilities(0) == pytest.approx([50 / 75, 25 / 75])
    frequent = AnnealedTemperatureSampler(sizes, batch_size=1, seed=3, start=5.0, end=1.0, steps=6000)
    frequent.total_epochs = 3
    counts = Counter(t for t, _ in frequent.schedule(2))
    assert counts[0] / 6000 == pytest.approx(0.8, abs=0.02)
    assert frequent.schedule(2) == frequent.schedule(2)  # deterministic from seed and epoch
