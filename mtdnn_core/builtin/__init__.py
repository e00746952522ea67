"""The core's own components. Each module here is a plugin, registered through the same hooks
as third-party plugins (after them, like any other plugin). ``original_names`` is no plugin: it
lists the names the original toolkit's task-definition files use, for messages about them."""

MODULES = (
    "mtdnn_core.builtin.task_types",
    "mtdnn_core.builtin.encoders",
    "mtdnn_core.builtin.heads",
    "mtdnn_core.builtin.losses",
    "mtdnn_core.builtin.metrics",
    "mtdnn_core.builtin.samplers",
    "mtdnn_core.builtin.optimizers",
    "mtdnn_core.builtin.data_formats",
    "mtdnn_core.builtin.regularizers",
    "mtdnn_core.builtin.reporters",
    "mtdnn_core.builtin.tasks",
)
