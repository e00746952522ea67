"""``--fsdp``'s sharding itself, on 2 Gloo processes: each rank holds its share of every weight
(the run-level tests compare results, which an unsharded model would also give), a copy for a
teacher is sharded alike, and whole weights gather back exactly."""
import os

import pytest
import torch
import torch.multiprocessing as mp


def _ranks(rank: int, world: int, init_file: str, out: str) -> None:
    import torch.distributed as dist
    from torch.distributed.tensor import DTensor

    from mtdnn_core.api import full_module_state, load_full_module_state, load_tiny_random_bert
    from mtdnn_core.training.sharding import copy_sharded, shard_model

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)

    def build():
        torch.manual_seed(0)
        model = torch.nn.Module()
        model.encoder = load_tiny_random_bert()[0]
        model.heads = torch.nn.ModuleDict({"pair": torch.nn.Linear(model.encoder.config.hidden_size, 2)})
        model.forward = lambda ids: model.heads["pair"](model.encoder(input_ids=ids).last_hidden_state[:, 0])
        return model

    whole = {k: v.clone() for k, v in build().state_dict().items()}
    model = build()
    shard_model(model)
    report = {"local": 0, "total": 0, "plain": []}
    for name, param in model.named_parameters():
        if not isinstance(param, DTensor):
            report["plain"].append(name)
            continue
        report["local"] += param.to_local().numel()
        report["total"] += param.numel()
    teacher = copy_sharded(model, build)
    report["teacher_sharded"] = all(isinstance(p, DTensor) for p in teacher.parameters())
    with torch.no_grad():  # the copy has its own storage: changing it leaves the model alone
        for p in teacher.parameters():
            p.to_local().add_(1.0)
    gathered, copy_gathered = full_module_state(model), full_module_state(teacher)
    load_full_module_state(teacher, whole)  # and whole weights (every rank has them, as from a checkpoint) go back into shards
    back = full_module_state(teacher)
    if rank == 0:
        report["gathered_equal"] = gathered.keys() == whole.keys() and all(torch.equal(gathered[k], whole[k]) for k in whole)
        report["copy_moved"] = all(torch.equal(copy_gathered[k], whole[k] + 1) for k in whole if whole[k].is_floating_point())
        report["reloaded_equal"] = all(torch.equal(back[k], whole[k]) for k in whole)
    else:
        report["others_get_nothing"] = gathered == {} and back == {}
    torch.save(report, os.path.join(out, f"rank{rank}.pt"))
    dist.destroy_process_group()


@pytest.mark.slow
def test_each_rank_holds_its_share_and_whole_weights_gather_back(tmp_path):
    mp.spawn(_ranks, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    reports = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    for report in reports:
        assert report["plain"] == [] and report["teacher_sharded"]  # every weight is a shard, the teacher's too
        assert report["total"] > 0 and abs(report["local"] / report["total"] - 0.5) < 0.01  # half of every weight
    assert reports[0]["local"] + reports[1]["local"] == reports[0]["total"]
    assert reports[0]["gathered_equal"] and reports[0]["copy_moved"] and reports[0]["reloaded_equal"]
    assert reports[1]["others_get_nothing"]
