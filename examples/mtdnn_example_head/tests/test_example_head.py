"""The example plugin, tested with the fixtures mtdnn-core provides to plugin authors."""
import torch

import mtdnn_example_head
from mtdnn_core.api import parse_task_defs


def test_mean_pool_head_averages_real_tokens_only(mtdnn_host):
    host = mtdnn_host(mtdnn_example_head)
    task = parse_task_defs("t:\n  data_format: PremiseOnly\n  task_type: Classification\n  head: mean_pool\n",
                           task_types=host.registries.task_types)["t"]
    head = host.registries.heads.build("mean_pool", {"dropout": 0.0}, hidden_size=2, task=task)
    with torch.no_grad():
        head.out.weight.copy_(torch.eye(2))
        head.out.bias.zero_()
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    out = head(hidden, {"attention_mask": torch.tensor([[1, 1, 0]])})
    assert out.tolist() == [[2.0, 3.0]]
