"""A command that extends ``mtdnn train`` as a plugin. Only the command's definition lives here
(cheap to import: ``mtdnn --help`` lists it without importing torch)."""
from mtdnn_core.api import hookimpl

MTDNN_API = ">=1.0,<2"  # the API versions this plugin is written for


@hookimpl
def register_commands(cli):
    from mtdnn_example_command.seeds import seeds

    cli.add_command(seeds)
