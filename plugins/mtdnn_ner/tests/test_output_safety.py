"""``ner convert`` never writes its TARGET over its SOURCE (under any name)."""
from click.testing import CliRunner

from mtdnn_core.api import cli as main


def test_convert_onto_its_source_is_refused(tmp_path):
    source = tmp_path / "eng.train"
    source.write_text("John B-PER\nran O\n\nAnn B-PER\n")
    alias = tmp_path / "alias.conll"
    alias.symlink_to(source)
    before = source.read_bytes()
    for target in (source, alias):
        result = CliRunner().invoke(main, ["ner", "convert", str(source), str(target), "--column", "1"])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        assert f"TARGET {target} is the same path as the input SOURCE {source}" in result.output
    assert source.read_bytes() == before and alias.is_symlink()
