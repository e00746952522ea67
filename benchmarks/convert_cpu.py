"""mtdnn-convert on CPU: the TensorFlow round trip at BERT-base size, exported task models against
``mtdnn predict``, and extraction speed and exactness. Prints JSON; ``--out`` merges the parts
run into that file (run the parts one at a time to keep each run short).

    nice -n 10 .venv/bin/python benchmarks/convert_cpu.py --part roundtrip --out benchmarks/results/convert_cpu.json
    nice -n 10 .venv/bin/python benchmarks/convert_cpu.py --part export_glue --out benchmarks/results/convert_cpu.json
    nice -n 10 .venv/bin/python benchmarks/convert_cpu.py --part export_ner --out benchmarks/results/convert_cpu.json
    nice -n 10 .venv/bin/python benchmarks/convert_cpu.py --part extract --out benchmarks/results/convert_cpu.json

* roundtrip: a random BERT-base-shaped BertForPreTraining (12 layers, hidden 768, MLM + NSP
  heads) written as a Google TensorFlow checkpoint with mtdnn-convert's bundle writer, converted
  back with ``convert tf-bert``; max |difference| of every tensor and of the outputs (hidden
  states, MLM and NSP logits) on 20 real RTE dev pairs.
* export_glue / export_ner: a short mtdnn run with all-MiniLM-L6-v2 on real RTE / CoNLL-2003
  rows, exported, then ``transformers.pipeline`` against ``mtdnn predict`` on dev rows (NER trains
  3 short epochs at a higher rate, so that the model predicts entities and the comparison is
  not "O" against "O").
* extract: sentences/s of ``mtdnn extract`` with MiniLM at 1 and 2 threads on real SST-2 dev
  sentences, and max |difference| to a plain ``AutoModel`` forward of each sentence alone.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mtdnn_core.testing import real_data_dir

REPO = Path(__file__).resolve().parents[1]
SHARED = real_data_dir()
MTDNN = str(Path(sys.executable).with_name("mtdnn"))


def glue_rows(task: str, split: str, columns: tuple[int, int, int], limit: int | None = None):
    with open(SHARED / "glue" / task / f"{split}.tsv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    a, b, label = columns
    return [(r[a], r[b] if b >= 0 else None, r[label]) for r in rows[:limit]]


def sh(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def roundtrip(threads: int) -> dict:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertConfig, BertForPreTraining

    from mtdnn_convert.bert_config import GoogleBertConfig
    from mtdnn_convert.bert_names import encoder_variables, mlm_variables, nsp_variables
    from mtdnn_convert.tf_bert import convert_tf_bert
    from mtdnn_convert.tf_bundle import write_bundle
    from mtdnn_core.api import packaged_minilm_path

    torch.set_num_threads(threads)
    google = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
              "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
              "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
              "initializer_range": 0.02}
    torch.manual_seed(0)
    original = BertForPreTraining(BertConfig(**google)).eval()
    state = original.state_dict()
    config = GoogleBertConfig(**google)
    spec = {**encoder_variables(config), **mlm_variables(config), **nsp_variables(config)}
    tf_tensors = {name: (state[t.hf_name].t() if t.transpose else state[t.hf_name]).contiguous() for name, t in spec.items()}
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        ckpt = Path(tmp) / "uncased_L-12_H-768_A-12"
        ckpt.mkdir()
        start = time.perf_counter()
        write_bundle(ckpt / "bert_model.ckpt", tf_tensors)
        write_s = time.perf_counter() - start
        (ckpt / "bert_config.json").write_text(json.dumps(google))
        (ckpt / "vocab.txt").write_bytes((Path(packaged_minilm_path()) / "vocab.txt").read_bytes())
        data_bytes = (ckpt / "bert_model.ckpt.data-00000-of-00001").stat().st_size
        start = time.perf_counter()
        report = convert_tf_bert(ckpt, Path(tmp) / "hf")
        convert_s = time.perf_counter() - start
        converted = load_file(str(Path(tmp) / "hf" / "model.safetensors"))
        tensor_diff = max(float((converted[t.hf_name] - state[t.hf_name]).abs().max()) for t in spec.values())
        model = BertForPreTraining.from_pretrained(Path(tmp) / "hf").eval()
        tokenizer = AutoTokenizer.from_pretrained(Path(tmp) / "hf")
        pairs = glue_rows("RTE", "dev", (1, 2, 3), 20)
        out_diff = {"hidden_states": 0.0, "prediction_logits": 0.0, "seq_relationship_logits": 0.0}
        with torch.no_grad():
            for a, b, _ in pairs:
                enc = tokenizer(a, b, return_tensors="pt", truncation=True, max_length=512)
                x, y = original(**enc, output_hidden_states=True), model(**enc, output_hidden_states=True)
                out_diff["hidden_states"] = max(out_diff["hidden_states"], max(
                    float((p - q).abs().max()) for p, q in zip(x.hidden_states, y.hidden_states)))
                for key in ("prediction_logits", "seq_relationship_logits"):
                    out_diff[key] = max(out_diff[key], float((getattr(x, key) - getattr(y, key)).abs().max()))
    return {"model": "random BertForPreTraining, BERT-base shape (12 x 768, vocab 30522, MLM + NSP)",
            "tensors": len(spec), "checkpoint_data_mb": round(data_bytes / 2**20, 1),
            "write_tf_checkpoint_s": round(write_s, 2), "convert_s": round(convert_s, 2),
            "architecture": report.architecture, "checksums_verified": report.checksums_verified,
            "max_abs_diff_tensors": tensor_diff, "rte_dev_pairs": len(pairs),
            "max_abs_diff_outputs": out_diff, "decoder_tied_to_word_embeddings": bool(
                torch.equal(model.cls.predictions.decoder.weight, model.bert.embeddings.word_embeddings.weight))}


def export_glue(threads: int) -> dict:
    from transformers import pipeline

    with tempfile.TemporaryDirectory() as tmp:
        run, out = Path(tmp) / "run", Path(tmp) / "rte-model"
        train = [MTDNN, "train", "--plugin", "glue", "--data-dir", str(SHARED / "glue"), "--tasks", "rte",
                 "--encoder", "all-minilm-l6-v2", "--max-train-samples", "300", "--max-eval-samples", "277",
                 "--epochs", "1", "--batch-size", "16", "--max-seq-len", "128", "--lr", "5e-5",
                 "--num-threads", str(threads), "--seed", "1", "--output-dir", str(run), "--no-progress",
                 "--set", "task_overrides={rte: {enable_san: false}}"]
        train_s = sh(train)
        export = [MTDNN, "export", str(run), "--task", "rte", str(out)]
        export_s = sh(export)
        dev = Path(tmp) / "rte_dev.tsv"
        rows = glue_rows("RTE", "dev", (1, 2, 3))
        dev.write_text("".join(f"{i}\t{label}\t{a}\t{b}\n" for i, (a, b, label) in enumerate(rows)), encoding="utf-8")
        predict = [MTDNN, "predict", "--checkpoint", str(run), "--task", "rte", "--data", str(dev),
                   "--output", str(Path(tmp) / "pred.json"), "--device", "cpu"]
        sh(predict)
        ours = json.loads((Path(tmp) / "pred.json").read_text())
        import torch

        torch.set_num_threads(threads)
        classify = pipeline("text-classification", model=str(out), device="cpu")
        theirs = classify([{"text": a, "text_pair": b} for a, b, _ in rows], truncation=True, top_k=None, batch_size=32)
        disagree, prob_diff = 0, 0.0
        for hf, label, scores in zip(theirs, ours["predictions"], ours["scores"]):
            by_label = {x["label"]: x["score"] for x in hf}
            disagree += max(by_label, key=by_label.get) != label
            prob_diff = max(prob_diff, abs(by_label["not_entailment"] - scores[0]), abs(by_label["entailment"] - scores[1]))
        accuracy = sum(max(h, key=lambda x: x["score"])["label"] == g for h, (_, _, g) in zip(theirs, rows)) / len(rows)
        config = json.loads((out / "config.json").read_text())
    return {"train_command": " ".join(train[1:]), "export_command": " ".join(export[1:]),
            "predict_command": " ".join(predict[1:]), "train_s": round(train_s, 1), "export_s": round(export_s, 1),
            "architecture": config["architectures"][0], "rows": len(rows), "disagreements": disagree,
            "max_abs_prob_diff": prob_diff, "note_prob_diff": "mtdnn predict rounds probabilities to 6 decimals",
            "pipeline_dev_accuracy": round(100 * accuracy, 2), "mtdnn_dev_accuracy": ours["metrics"].get("accuracy")}


def export_ner(threads: int, sentences: int = 500) -> dict:
    from transformers import AutoTokenizer, pipeline

    from mtdnn_ner.conll import read_conll

    with tempfile.TemporaryDirectory() as tmp:
        run, out = Path(tmp) / "run", Path(tmp) / "ner-model"
        train = [MTDNN, "train", "--plugin", "ner", "--data-dir", str(SHARED / "conll2003"), "--tasks", "ner",
                 "--encoder", "all-minilm-l6-v2", "--max-train-samples", "200", "--max-eval-samples", "300",
                 "--epochs", "3", "--batch-size", "8", "--max-seq-len", "128", "--lr", "5e-4",
                 "--num-threads", str(threads), "--seed", "1", "--output-dir", str(run), "--no-progress"]
        train_s = sh(train)
        export = [MTDNN, "export", str(run), "--task", "ner", str(out)]
        export_s = sh(export)
        dev = Path(tmp) / "dev.conll"
        blocks = (SHARED / "conll2003" / "valid.txt").read_text(encoding="utf-8").split("\n\n")
        dev.write_text("\n\n".join(blocks[:sentences]) + "\n", encoding="utf-8")
        predict = [MTDNN, "predict", "--plugin", "ner", "--checkpoint", str(run), "--task", "ner", "--data", str(dev),
                   "--output", str(Path(tmp) / "pred.json"), "--device", "cpu"]
        sh(predict)
        ours = json.loads((Path(tmp) / "pred.json").read_text())["predictions"]
        words = [s.column(0) for s in read_conll(dev)]
        tokenizer = AutoTokenizer.from_pretrained(out)
        fits = [len(tokenizer(w, is_split_into_words=True)["input_ids"]) <= tokenizer.model_max_length for w in words]
        import torch

        torch.set_num_threads(threads)
        tagger = pipeline("token-classification", model=str(out), device="cpu", ignore_labels=[])
        kept = [i for i, ok in enumerate(fits) if ok]
        tagged = tagger([words[i] for i in kept], is_split_into_words=True, batch_size=32)
        compared = disagree = 0
        non_o = 0
        for i, tokens in zip(kept, tagged):
            starts, position = {}, 0
            for w, word in enumerate(words[i]):
                starts[position] = w
                position += len(word) + 1
            first = {starts[t["start"]]: t["entity"] for t in tokens if t["start"] in starts}
            for w in range(len(words[i])):
                compared += 1
                disagree += first.get(w) != ours[i][w]
                non_o += ours[i][w] != "O"
    return {"train_command": " ".join(train[1:]), "export_command": " ".join(export[1:]),
            "predict_command": " ".join(predict[1:]), "train_s": round(train_s, 1), "export_s": round(export_s, 1),
            "dev_sentences": len(words), "sentences_longer_than_max_seq_len_excluded": len(words) - len(kept),
            "words_compared": compared, "first_sub_token_disagreements": disagree, "words_predicted_not_O": non_o}


def extract(lines: int = 512, compare: int = 128) -> dict:
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from mtdnn_core.api import packaged_minilm_path

    sentences = [a for a, _, _ in glue_rows("SST-2", "dev", (0, -1, 1), lines)]
    result = {"encoder": "all-minilm-l6-v2", "input": f"first {len(sentences)} SST-2 dev sentences",
              "settings": "--layers -1 --pooling mean --batch-size 32 (.npy output)", "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "sentences.txt"
        source.write_text("\n".join(sentences) + "\n", encoding="utf-8")
        for threads in (1, 2, 1, 2):  # alternated, best of two: the machine is shared
            command = [MTDNN, "extract", "--encoder", "all-minilm-l6-v2", "--input", str(source), "--output",
                       str(Path(tmp) / f"t{threads}.npy"), "--layers", "-1", "--pooling", "mean", "--batch-size", "32",
                       "--num-threads", str(threads), "--no-progress"]
            load = os.getloadavg()[0]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rate = float(output.rsplit("(", 1)[1].split(" lines/s")[0])
            result["runs"].append({"threads": threads, "sentences_per_s": rate, "load_average_before": round(load, 2)})
        result["command"] = " ".join(command[1:]).replace(tmp, "$TMP").replace("--num-threads 2", "--num-threads N")
        for threads in (1, 2):
            result[f"best_sentences_per_s_{threads}_thread{'s' if threads > 1 else ''}"] = max(
                r["sentences_per_s"] for r in result["runs"] if r["threads"] == threads)
        array = np.load(Path(tmp) / "t2.npy")
        torch.set_num_threads(2)
        path = packaged_minilm_path()
        model, tokenizer = AutoModel.from_pretrained(path).eval(), AutoTokenizer.from_pretrained(path)
        diff = 0.0
        with torch.no_grad():
            for i, sentence in enumerate(sentences[:compare]):
                states = model(**tokenizer(sentence, return_tensors="pt")).last_hidden_state[0]
                diff = max(diff, float(np.abs(array[i, 0] - states.mean(0).numpy()).max()))
    result["max_abs_diff_to_plain_automodel"] = diff
    result["compared_sentences"] = compare
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["roundtrip", "export_glue", "export_ner", "extract"], action="append", required=True)
    parser.add_argument("--threads", type=int, default=1, help="torch threads for training and comparisons")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = json.loads(args.out.read_text()) if args.out and args.out.is_file() else {}
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    for part in args.part:
        start = time.perf_counter()
        value = {"roundtrip": lambda: roundtrip(args.threads), "export_glue": lambda: export_glue(args.threads),
                 "export_ner": lambda: export_ner(args.threads), "extract": extract}[part]()
        value["wall_s"] = round(time.perf_counter() - start, 1)
        results[part] = value
        print(json.dumps({part: value}, indent=2), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
