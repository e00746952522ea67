"""``mtdnn alum ...``: adversarial pre-training and fine-tuning."""
from __future__ import annotations

import json

import click


@click.group()
def alum():
    """Robust training: ALUM pre-training, SMART / PDR / Bregman fine-tuning.

    \b
    Pre-train:  mtdnn alum pretrain --encoder all-minilm-l6-v2 --corpus wiki.jsonl --output alum-encoder/
    Fine-tune:  mtdnn alum finetune --plugin glue --data-dir glue_data --tasks rte --adv_train --adv_alpha 1
    Or in any run: mtdnn train ... --plugin alum --set 'regularizers=[{name: smart, params: {alpha: 1}}]'
    """


#: the ``smart`` parameter behind each ``alum pretrain`` option (for error messages)
PRETRAIN_OPTION = {"alpha": "--adv-alpha", "where": "--adv-layer", "steps": "--adv-steps", "step_size": "--adv-step-size",
                   "noise_std": "--adv-noise-var", "epsilon": "--adv-epsilon", "scale": "--adv-scale",
                   "mode": "--adv-mode", "ascent": "--adv-ascent", "norm": "--adv-norm"}


#: what ``alum pretrain`` writes into OUTPUT (besides the model's files)
PRETRAIN_FILES = ("run", "corpus", "heldout_before.json", "pretrain_summary.json")


@alum.command()
@click.option("--encoder", default="all-minilm-l6-v2", show_default=True, help="Encoder name or directory.")
@click.option("--corpus", required=True, type=click.Path(exists=True, dir_okay=False), help="Plain text or JSON lines with 'text'.")
@click.option("--output", required=True, type=click.Path(file_okay=False),
              help="The Hugging Face model directory (usable as --encoder); the run goes into OUTPUT/run.")
@click.option("--steps", type=int, default=100, show_default=True, help="Updates.")
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--max-seq-len", type=int, default=128, show_default=True)
@click.option("--lr", type=float, default=5e-5, show_default=True)
@click.option("--warmup", type=float, default=0.0, show_default=True, help="Share of the updates for linear warm-up.")
@click.option("--grad-accumulation", type=int, default=1, show_default=True)
@click.option("--mask-prob", type=float, default=0.15, show_default=True)
@click.option("--whole-word-mask", is_flag=True, help="Mask whole words rather than sub-tokens.")
@click.option("--adv-alpha", type=float, default=10.0, show_default=True, help="Weight of the adversarial term (0: plain MLM).")
@click.option("--adv-layer", default="embeddings", show_default=True,
              help="embeddings (the layer's output), word_embeddings or layer:N.")
@click.option("--adv-steps", type=int, default=1, show_default=True, help="Ascent steps.")
@click.option("--adv-step-size", type=float, default=None,
              help="Ascent step size [default: 1e-3 x the norm of a vector of ones: 1e-3 for inf].")
@click.option("--adv-noise-var", type=float, default=1e-5, show_default=True,
              help="Standard deviation of the starting noise (the original's name).")
@click.option("--adv-epsilon", type=float, default=1e-6, show_default=True, help="Stabiliser of the normalisation.")
@click.option("--adv-scale", type=float, default=None,
              help="Norm of the perturbation per token (or radius with --adv-mode project) [default: the norm of a "
                   "vector of ones: 1 for inf, sqrt(hidden) for l2, hidden for l1].")
@click.option("--adv-mode", type=click.Choice(["normalize", "project"]), default="normalize", show_default=True)
@click.option("--adv-ascent", type=click.Choice(["normalized", "raw", "steepest"]), default="normalized", show_default=True)
@click.option("--adv-norm", type=click.Choice(["inf", "l2", "l1"]), default="inf", show_default=True)
@click.option("--precision", type=click.Choice(["fp32", "bf16", "fp16"]), default="fp32", show_default=True,
              help="Mixed precision (torch.amp).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1, ...")
@click.option("--eval-every", type=int, default=None, help="Held-out masked-LM loss every N updates (default: at the end).")
@click.option("--save-every", type=int, default=500, show_default=True,
              help="Checkpoint every N updates (what --resume continues from); the last two are kept.")
@click.option("--log-every", type=int, default=None, help="Updates per line of OUTPUT/run/log.jsonl (default: steps / 100).")
@click.option("--report-to", default="jsonl", show_default=True, help="Reporters, comma-separated (jsonl, tensorboard, ...).")
@click.option("--resume", is_flag=True, help="Continue the run in OUTPUT/run from its latest checkpoint.")
@click.option("--overwrite", is_flag=True, help="Replace a run already in OUTPUT/run.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--threads", type=int, default=None, help="CPU threads.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def pretrain(encoder, corpus, output, steps, batch_size, max_seq_len, lr, warmup, grad_accumulation, mask_prob,
             whole_word_mask, adv_alpha, adv_layer, adv_steps, adv_step_size, adv_noise_var, adv_epsilon, adv_scale,
             adv_mode, adv_ascent, adv_norm, precision, device, eval_every, save_every, log_every, report_to, resume,
             overwrite, seed, threads, progress):
    """Continue masked-LM pre-training of an encoder on a corpus, with ALUM's adversarial term.

    A run of the core trainer on the `mlm` task with the `smart` regularizer (weight
    --adv-alpha) on the masked positions: checkpoints, --resume, mixed precision, the run's
    log (OUTPUT/run/log.jsonl: loss, `reg_smart` and its pieces) and reporters. Every tenth
    paragraph is held out; OUTPUT/pretrain_summary.json has its masked-LM loss before and after.
    The result loads with AutoModelForMaskedLM and works as `mtdnn train --encoder OUTPUT`.

    \b
    Example:
      mtdnn alum pretrain --corpus mlm_train.json --output alum-minilm/ --steps 200 --whole-word-mask
    """
    from pydantic import ValidationError

    from mtdnn_core.api import ConfigError, TRAIN_RUN_MARKERS, check_output
    from mtdnn_alum.pretrain import continue_pretraining
    from mtdnn_alum.regularizers import SMARTConfig

    # OUTPUT holds the run, the corpus link, the model and the summaries: new, empty or its own
    check_output(output, [("--corpus", corpus), ("--encoder", encoder)], option="--output", overwrite=overwrite or resume,
                 directory=True, own=PRETRAIN_FILES, foreign=TRAIN_RUN_MARKERS, exclusive=True,
                 again="continue it with --resume, replace it with --overwrite")
    params = {"alpha": adv_alpha, "where": adv_layer, "steps": adv_steps, "step_size": adv_step_size,
              "noise_std": adv_noise_var, "epsilon": adv_epsilon, "scale": adv_scale, "mode": adv_mode,
              "ascent": adv_ascent, "norm": adv_norm}
    try:
        SMARTConfig(**params)  # checked here, so an error names the option
    except ValidationError as exc:
        raise ConfigError([f"{PRETRAIN_OPTION.get(str(e['loc'][0]) if e['loc'] else '', '--adv-*')}: {e['msg']}"
                           for e in exc.errors()]) from None
    regularizers = [{"name": "smart", "params": params}] if adv_alpha > 0 else []
    summary = continue_pretraining(
        encoder, corpus, output, steps=steps, batch_size=batch_size, max_len=max_seq_len, lr=lr, warmup=warmup,
        grad_accumulation=grad_accumulation, mask_prob=mask_prob, whole_word=whole_word_mask, seed=seed,
        regularizers=regularizers, plugins=["alum"] if regularizers else [], eval_every=eval_every,
        save_every=save_every, precision=precision, device=device, resume=resume, overwrite=overwrite,
        num_threads=threads, report_to=[r.strip() for r in report_to.split(",") if r.strip()], log_every=log_every,
        progress=progress, model_dir=output)
    if summary:  # rank 0 of a data-parallel run
        click.echo(json.dumps(summary, indent=2))


ORIGINAL_OPTIONS = [
    click.Option(["--adv_train"], is_flag=True, help="Add SMART's adversarial term (original option name)."),
    click.Option(["--adv_alpha"], type=float, default=1.0, help="Weight of the adversarial term."),
    click.Option(["--adv_k"], type=int, default=1, help="Ascent steps."),
    click.Option(["--adv_step_size"], type=float, default=None,
                 help="Ascent step size [default: 1e-3 x the norm of a vector of ones: 1e-3 for inf]."),
    click.Option(["--adv_noise_var"], type=float, default=1e-5,
                 help="Standard deviation of the starting noise (the original multiplies by this value despite its name)."),
    click.Option(["--adv_epsilon"], type=float, default=1e-6,
                 help="Stabiliser of the normalisation delta / (||delta|| + epsilon), as in the original."),
    click.Option(["--adv_p_norm"], type=click.Choice(["inf", "l2", "l1"]), default="inf", help="Norm of the perturbation."),
    click.Option(["--adv_norm_level"], type=click.IntRange(0, 1), default=0, help="0: per token, 1: per sentence."),
    click.Option(["--adv_scale"], type=float, default=None,
                 help="Norm of the perturbation (normalize) or radius of its ball (project) [default: the norm of a "
                      "vector of ones: 1 for inf, sqrt(hidden) for l2, hidden for l1]."),
    click.Option(["--adv_mode"], type=click.Choice(["normalize", "project"]), default="normalize",
                 help="normalize: rescale to --adv_scale (original toolkit); project: into the --adv_scale ball (paper)."),
    click.Option(["--adv_ascent"], type=click.Choice(["normalized", "raw", "steepest"]), default="normalized",
                 help="Ascent direction: g/||g|| (paper), g (original toolkit's code) or steepest ascent (sign for inf)."),
    click.Option(["--adv_where"], default="embeddings", help="embeddings (the layer's output), word_embeddings or layer:N."),
    click.Option(["--bregman_mu"], type=float, default=0.0, help="Weight of the Bregman proximal point term (0: off)."),
    click.Option(["--bregman_beta"], type=float, default=0.99, help="Momentum of the Bregman teacher."),
]


def smart_params(adv: dict) -> dict:
    """The ``smart`` regularizer's parameters for the original toolkit's options."""
    return {"alpha": adv["adv_alpha"], "steps": adv["adv_k"], "step_size": adv["adv_step_size"],
            "noise_std": adv["adv_noise_var"], "epsilon": adv["adv_epsilon"], "norm": adv["adv_p_norm"],
            "granularity": "sentence" if adv["adv_norm_level"] else "token", "scale": adv["adv_scale"],
            "mode": adv["adv_mode"], "ascent": adv["adv_ascent"], "where": adv["adv_where"]}


def _finetune_command() -> click.Command:
    from mtdnn_core.api import train_command as train

    def callback(**kwargs):
        adv = {o.name: kwargs.pop(o.name) for o in ORIGINAL_OPTIONS}
        regularizers = []
        if adv["adv_train"]:
            regularizers.append({"name": "smart", "params": smart_params(adv)})
        if adv["bregman_mu"] > 0:
            regularizers.append({"name": "bregman", "params": {"mu": adv["bregman_mu"], "beta": adv["bregman_beta"]}})
        kwargs["plugins"] = tuple(dict.fromkeys([*kwargs["plugins"], "alum"]))
        kwargs["sets"] = (*kwargs["sets"], f"regularizers={json.dumps(regularizers)}")
        return train.callback(**kwargs)

    return click.Command(
        "finetune", callback=callback, params=[*train.params, *ORIGINAL_OPTIONS],
        help="`mtdnn train` with SMART / Bregman fine-tuning under the original toolkit's option names.\n\n"
             "\b\nExample:\n  mtdnn alum finetune --plugin glue --data-dir glue_data --tasks rte,stsb --adv_train --adv_alpha 1",
    )


alum.add_command(_finetune_command())
