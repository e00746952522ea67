"""Masked-LM through the trainer: mixed with a classification task, resumed bit-identically, evaluated by
held-out loss and perplexity."""
import json
import math

import pytest
import torch

from mtdnn_core.testing import Interrupt, interrupt_at, make_host, real_data
from mtdnn_core.training.trainer import Trainer


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data):
    """The first paragraphs of the real Wikipedia corpus, as JSON lines."""
    folder = tmp_path_factory.mktemp("mlm")
    first = json.loads((real_data("mlm") / "mlm_train.json").read_text().splitlines()[0])
    text = "\n".join(first["text"].split("\n")[:24])
    (folder / "mlm_train.jsonl").write_text(json.dumps({"id": first["id"], "text": text}) + "\n")
    return folder


def test_masked_lm_mixed_with_a_classification_task_resumes_bit_identically(tiny_train_config, corpus, tiny_tasks,
                                                                            tmp_path):
    task_def, data = tiny_tasks
    common = dict(task_def=[str(task_def)], tasks=["mlm", "pair"], data_dir=str(data), task_data_dirs={"mlm": str(corpus)},
                  max_train_samples=16, max_eval_samples=8, max_seq_len=32, batch_size=8, epochs=1, save_every=2,
                  eval_every=4,
                  cache_dir=str(tmp_path / "cache"))
    full = Trainer(tiny_train_config(output_dir=str(tmp_path / "full"), **common), make_host(), progress=False)
    summary = full.train()
    metrics = summary["history"][-1]["metrics"]
    assert set(metrics["mlm_dev"]) == {"mlm_loss", "perplexity", "mlm_accuracy"} and "accuracy" in metrics["pair_dev"]
    assert metrics["mlm_dev"]["perplexity"] == pytest.approx(math.exp(metrics["mlm_dev"]["mlm_loss"]), rel=1e-6)
    assert metrics["mlm_dev"]["mlm_loss"] < math.log(30522)  # below a uniform guess over the vocabulary
    cut_dir = str(tmp_path / "cut")
    cut = Trainer(tiny_train_config(output_dir=cut_dir, **common), make_host(interrupt_at(5)), progress=False)
    with pytest.raises(Interrupt):
        cut.train()
    resumed = Trainer(tiny_train_config(output_dir=cut_dir, **common), make_host(), progress=False)
    resumed.train(resume=cut_dir)  # from step 4, mid-epoch: the masks of the remaining batches must match
    assert resumed.step == full.step
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    first = json.loads((tmp_path / "full" / "scores" / "mlm_dev.step4.json").read_text())
    last = json.loads((tmp_path / "full" / "scores" / "mlm_dev.epoch0.json").read_text())
    # the held-out masks are the same in every evaluation: the same tokens are predicted
    assert [len(s) for s in first["scores"]] == [len(s) for s in last["scores"]]


def test_each_epoch_masks_differently(tiny_train_config, corpus, tmp_path):
    from mtdnn_core.data.loader import batch_loader

    trainer = Trainer(tiny_train_config(tasks=["mlm"], data_dir=str(corpus), max_train_samples=24, max_seq_len=32,
                                        batch_size=8), make_host(), progress=False)
    schedule = [(0, list(range(8)))]
    first = next(iter(batch_loader(trainer.data.train, schedule, 0, 0, seed=1, epoch=0)))[1]
    second = next(iter(batch_loader(trainer.data.train, schedule, 0, 0, seed=1, epoch=1)))[1]
    again = next(iter(batch_loader(trainer.data.train, schedule, 0, 0, seed=1, epoch=0)))[1]
    assert torch.equal(first["mlm_labels"], again["mlm_labels"])
    assert not torch.equal(first["mlm_labels"], second["mlm_labels"])
