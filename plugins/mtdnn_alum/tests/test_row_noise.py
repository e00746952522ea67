"""``noise_draw: row``: a row's starting noise depends on its key alone, not on the batch's other
rows or its padded length, which is what lets torchrun ranks draw what one process draws."""
import numpy as np
import torch

from mtdnn_alum.adversary import row_noise


def test_a_rows_noise_is_its_keys_whatever_the_batch_and_padding():
    short = row_noise([7, 11], (2, 3, 4), "cpu")
    long = row_noise([11, 5, 7], (3, 6, 4), "cpu")  # other rows, other order, longer padding
    expected_7 = np.random.default_rng(7).standard_normal(12, dtype=np.float32).reshape(3, 4)
    assert torch.equal(short[0], torch.from_numpy(expected_7))
    assert torch.equal(long[2, :3], short[0]) and torch.equal(long[0, :3], short[1])
    assert not torch.equal(short[0], short[1])
