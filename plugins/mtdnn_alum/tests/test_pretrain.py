"""``continue_pretraining`` (``mtdnn alum pretrain``): a corpus trained as the core's ``mlm`` task
and written as a masked-LM model that computes what the trained run computes."""
import json

import pytest
import torch

from mtdnn_core.testing import make_host, real_data


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, shared_data):
    """The first paragraphs of the real Wikipedia corpus, as JSON lines."""
    folder = tmp_path_factory.mktemp("mlm")
    first = json.loads((real_data("mlm") / "mlm_train.json").read_text().splitlines()[0])
    text = "\n".join(first["text"].split("\n")[:24])
    (folder / "mlm_train.jsonl").write_text(json.dumps({"id": first["id"], "text": text}) + "\n")
    return folder


def test_continual_pretraining_writes_a_masked_lm_model(corpus, tmp_path):
    from transformers import AutoModelForMaskedLM

    from mtdnn_core.api import IGNORE_INDEX, MaskedLM, TextCorpus, load_for_inference
    from mtdnn_alum.pretrain import continue_pretraining

    summary = continue_pretraining("tiny-random-bert", corpus / "mlm_train.jsonl", tmp_path / "out", steps=3, batch_size=8,
                                   max_len=32, lr=1e-3, num_threads=2, device="cpu", progress=False)
    assert summary["steps"] == 3 and summary["heldout_mlm_loss_before"] > 0 and summary["heldout_mlm_loss_after"] > 0
    exported = AutoModelForMaskedLM.from_pretrained(tmp_path / "out" / "model").eval()
    model, _, defs, _ = load_for_inference(tmp_path / "out" / "run", make_host())
    examples = TextCorpus().read(corpus / "mlm_train.jsonl", defs["mlm"], MaskedLM())
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "out" / "model")
    batch = MaskedLM().collate(TextCorpus().encode(examples, tokenizer, 32, defs["mlm"])[:4], 0, seed=(0,))
    with torch.no_grad():
        ours = model("mlm", batch)
        theirs = exported(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                          token_type_ids=batch["token_type_ids"]).logits[batch["mlm_labels"] != IGNORE_INDEX]
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
