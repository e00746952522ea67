"""``mtdnn convert``, ``mtdnn export`` and ``mtdnn extract``: models in and out of mtdnn."""
from __future__ import annotations

from pathlib import Path

import click

plugin_option = click.option("--plugin", "plugins", multiple=True, metavar="NAME",
                             help="Also load the installed plugin NAME (repeatable).")
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace OUT_DIR if it exists and is not empty.")
lower_case_option = click.option("--do-lower-case/--no-lower-case", "lower_case", default=None,
                                 help="Lower-case input text (default: the config's do_lower_case, else read off "
                                      "the vocabulary: uncased vocabularies have no upper-case tokens).")
ignore_option = click.option("--ignore", "ignore", multiple=True, metavar="PATTERN",
                             help="Drop variables matching this glob knowingly (repeatable), e.g. 'output_*'.")


@click.group()
def convert():
    """Convert checkpoints of other toolkits into Hugging Face directories for --encoder.

    \b
    Examples:
      mtdnn convert tf-bert uncased_L-12_H-768_A-12/ bert-base-uncased/
      mtdnn convert mtdnn-pt mt_dnn_base_uncased.pt mt-dnn-base/ --vocab vocab.txt
      mtdnn train --plugin glue --encoder bert-base-uncased/ --data-dir glue_data --tasks rte
    """


@convert.command("tf-bert")
@click.argument("ckpt", type=click.Path())  # a checkpoint prefix names no file itself: checked by the converter
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="bert_config.json (default: beside the checkpoint).")
@click.option("--vocab", "vocab_file", type=click.Path(dir_okay=False), help="vocab.txt (default: beside the checkpoint).")
@lower_case_option
@ignore_option
@click.option("--hidden-act", default=None, metavar="NAME",
              help="Override the activation; 'gelu_new' is the tanh approximation Google's TensorFlow code computes "
                   "(default: the config's 'gelu', the exact form, as every published port uses).")
@overwrite_option
def tf_bert(ckpt, out_dir, config_file, vocab_file, lower_case, ignore, hidden_act, overwrite):
    """A Google TensorFlow BERT checkpoint to a Hugging Face model directory.

    CKPT is the directory holding bert_model.ckpt.index, bert_model.ckpt.data-*, bert_config.json
    and vocab.txt (or a checkpoint prefix such as model.ckpt-100000). TensorFlow is not needed.
    Optimizer slots (adam_m, adam_v, ...) and global_step are skipped; any other variable must map
    to BERT, with the shape bert_config.json implies.

    \b
    Example:
      mtdnn convert tf-bert uncased_L-12_H-768_A-12/ bert-base-uncased/
    """
    from tqdm.auto import tqdm

    from mtdnn_convert.tf_bert import convert_tf_bert

    report = convert_tf_bert(Path(ckpt), Path(out_dir), config_file=config_file, vocab_file=vocab_file,
                             lower_case=lower_case, ignore=list(ignore), hidden_act=hidden_act, overwrite=overwrite,
                             progress=lambda items: tqdm(items, unit="tensor", leave=False))
    click.echo(f"converted {report.converted} tensors as {report.architecture} -> {report.target}")
    click.echo(f"ignored {report.ignored_slots} optimizer slot(s) and step counter(s)"
               + (f" and {report.ignored_by_user} variable(s) matching --ignore" if report.ignored_by_user else ""))
    click.echo(f"lower-casing {'on' if report.lower_case.value else 'off'} ({report.lower_case.reason})")
    if not report.checksums_verified:
        click.echo("checksums not verified (google-crc32c has no C extension here)")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"use it with: mtdnn train --encoder {report.target} ...")


@convert.command("mtdnn-pt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--vocab", "vocab_file", type=click.Path(dir_okay=False), help="vocab.txt to build the tokenizer from.")
@click.option("--tokenizer", default=None, metavar="DIR", help="Copy the tokenizer of this model directory (or hub name).")
@lower_case_option
@click.option("--num-attention-heads", type=int, default=None, help="When the file's config lacks it.")
@ignore_option
@overwrite_option
def mtdnn_pt(file, out_dir, vocab_file, tokenizer, lower_case, num_attention_heads, ignore, overwrite):
    """An original MT-DNN checkpoint (mt_dnn_base_uncased.pt style) to a Hugging Face encoder
    directory, with its task heads in heads.safetensors and heads.json.

    The file is read with torch.load(weights_only=True): a .pt carrying classes or code is refused.

    \b
    Example:
      mtdnn convert mtdnn-pt mt_dnn_base_uncased.pt mt-dnn-base/ --vocab bert-base-uncased-vocab.txt
    """
    from mtdnn_convert.mtdnn_pt import convert_mtdnn_pt

    report = convert_mtdnn_pt(Path(file), Path(out_dir), vocab_file=vocab_file, tokenizer=tokenizer,
                              lower_case=lower_case, num_attention_heads=num_attention_heads, ignore=list(ignore),
                              overwrite=overwrite)
    click.echo(f"encoder: {report.encoder_tensors} tensors (BertModel) -> {report.target}")
    for head in report.heads:
        shapes = ", ".join(f"{k} {v}" for k, v in head["parameters"].items())
        click.echo(f"head {head['prefix']}: {head['kind']} ({shapes})")
    if report.heads:
        click.echo(f"heads written to {report.target / 'heads.safetensors'}, described in heads.json")
    click.echo(f"tokenizer: {report.tokenizer}")
    for note in report.notes:
        click.echo(f"note: {note}")


@click.command()
@click.argument("run", type=click.Path())
@click.option("--task", required=True, help="The task to export (as trained).")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--push-to-hub", "repo", default=None, metavar="REPO",
              help="Then upload to this Hugging Face repo (needs network and a token).")
@click.option("--private", is_flag=True, help="With --push-to-hub: create the repo private.")
@plugin_option
@overwrite_option
def export(run, task, out_dir, repo, private, plugins, overwrite):
    """One task of an mtdnn run or checkpoint as a Hugging Face model directory.

    Pooler heads (tanh) become AutoModelForSequenceClassification models, token heads
    AutoModelForTokenClassification models, with labels, tokenizer and a model card. Other heads
    (SAN, CRF, span, a pooler with another activation, a plugin's head) become custom-code
    models: modeling_mtdnn.py in OUT_DIR, loaded with trust_remote_code=True. Sequence-labelling
    exports carry a pipeline that windows long sentences as mtdnn does. The export is checked
    against the mtdnn model's outputs before OUT_DIR appears.

    \b
    Examples:
      mtdnn export runs/glue --task rte rte-model/
      mtdnn export runs/glue --task rte rte-model/ --push-to-hub me/mtdnn-rte
    """
    from mtdnn_convert.export import export_task

    report = export_task(run, task, out_dir, tuple(plugins), overwrite)
    trust = report.custom_code or report.pipeline_tag == "token-classification"
    if report.custom_code:
        click.echo(f"'{task}' has no transformers class ({report.fallback_reason}); exported from {report.checkpoint} "
                   f"as custom code (modeling_mtdnn.py); difference to mtdnn {report.difference:.2g}")
    else:
        click.echo(f"exported '{task}' from {report.checkpoint}: {report.layout}; "
                   f"max logit difference to mtdnn {report.difference:.2g}")
    click.echo(f"load it with transformers.pipeline('{report.pipeline_tag}', model='{report.target}'"
               + (", trust_remote_code=True)" if trust else ")"))
    if repo:
        from mtdnn_convert.hub import push_to_hub

        click.echo(f"pushed to {push_to_hub(report.target, repo, private)}")


@click.command()
@click.option("--checkpoint", type=click.Path(), default=None, help="An mtdnn run or checkpoint: its fine-tuned encoder.")
@click.option("--encoder", default=None, help="Or an encoder as for mtdnn train --encoder (all-minilm-l6-v2, a directory, ...).")
@click.option("--input", "input_file", required=True, type=click.Path(dir_okay=False), help="One text per line, or 'text ||| pair'.")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help=".jsonl (JSON lines) or .npy.")
@click.option("--layers", default="-1", show_default=True, help="Comma-separated hidden-state layers: -1 last, 0 embeddings.")
@click.option("--pooling", type=click.Choice(["first", "mean", "all"]), default="first", show_default=True,
              help="First token, mean over tokens, or every token (.jsonl only).")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--max-seq-len", type=click.IntRange(min=1), default=None,
              help="Truncate longer inputs (default: the run's, else 512); at most the encoder's positions.")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda, cuda:1, ... or auto (a GPU if there is one).")
@click.option("--num-threads", type=int, default=None, help="CPU threads for torch.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@plugin_option
def extract(checkpoint, encoder, input_file, output, layers, pooling, batch_size, max_seq_len, device, num_threads,
            no_progress, plugins):
    """Write hidden states of chosen layers for each input line (embedding extraction).

    \b
    JSON lines output, one object per input line (line counts from 0):
      {"line": 0, "features": [{"layer": -1, "values": [0.12, ...]}, {"layer": -2, ...}]}
    with --pooling all, "values" holds one vector per token and "tokens" the tokens.
    .npy output: float32 [lines, layers, hidden].

    \b
    Examples:
      mtdnn extract --encoder all-minilm-l6-v2 --input sentences.txt --output emb.npy --pooling mean
      mtdnn extract --checkpoint runs/glue --input pairs.txt --output feats.jsonl --layers -1,-2
    """
    import torch

    from mtdnn_convert import encoders as sources
    from mtdnn_convert.errors import ConversionError
    from mtdnn_convert.extract import extract as run_extract, output_kind
    from mtdnn_convert.extract_inputs import parse_layers, read_lines
    from mtdnn_core.api import check_output

    if (checkpoint is None) == (encoder is None):
        raise click.UsageError("give exactly one of --checkpoint RUN and --encoder NAME")
    if batch_size < 1:
        raise ConversionError("--batch-size must be at least 1")
    output_kind(Path(output), pooling)
    check_output(output, [("--input", input_file), ("--checkpoint", checkpoint), ("--encoder", encoder)], option="--output")
    lines = read_lines(input_file)
    if num_threads:
        torch.set_num_threads(num_threads)
    if checkpoint:
        model, tokenizer, trained_len = sources.from_checkpoint(checkpoint, tuple(plugins))
    else:
        (model, tokenizer), trained_len = sources.by_name(encoder, tuple(plugins)), None
    chosen = parse_layers(layers, sources.num_layers(model))
    max_len = max_seq_len or trained_len or sources.max_positions(model, tokenizer)
    if max_seq_len is not None:
        sources.check_max_len(max_seq_len, model, tokenizer, pairs=any(line.pair is not None for line in lines))
    stats = run_extract(model, tokenizer, lines, Path(output), chosen, pooling, batch_size, max_len, device,
                        progress=not no_progress)
    click.echo(f"{stats.lines} line(s), layers {chosen}, {pooling} pooling -> {output} "
               f"({stats.lines_per_second:.1f} lines/s)")
