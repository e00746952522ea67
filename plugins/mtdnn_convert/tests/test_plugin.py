"""The plugin adds its three commands through the register_commands hook, and nothing else."""
import click

from mtdnn_convert import plugin


def test_registers_convert_export_and_extract():
    group = click.Group()
    plugin.register_commands(group)
    assert sorted(group.commands) == ["convert", "export", "extract"]
    assert sorted(group.commands["convert"].commands) == ["mtdnn-pt", "tf-bert"]
