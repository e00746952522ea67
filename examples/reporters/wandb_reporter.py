"""A Weights & Biases reporter: `mtdnn train --plugin wandb_reporter --report-to jsonl,wandb ...`."""
from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


class WandbReporter:
    def __init__(self, run):  # run.output_dir, run.config (TrainConfig), run.tasks
        import wandb

        self.wandb = wandb
        self.config = run.config.model_dump()
        self.output_dir = str(run.output_dir)

    @hookimpl
    def on_train_begin(self, run):
        self.run = self.wandb.init(dir=self.output_dir, config=self.config, resume="allow")

    @hookimpl
    def on_step_end(self, state):
        self.run.log({"train/loss": state.loss, "train/lr": state.lr}, step=state.step)

    @hookimpl
    def on_evaluate(self, dataset, epoch, step, metrics):
        self.run.log({f"{dataset}/{k}": v for k, v in metrics.items() if isinstance(v, float)}, step=step)

    @hookimpl
    def on_train_end(self, summary):
        self.run.finish()


@hookimpl
def register_reporters(registry):
    registry.add("wandb", WandbReporter)
