"""A YAML "billion laughs" in a key=value option of `mtdnn hnn evaluate` fails fast, naming the
option, with exit code 2, no traceback and no output directory."""
import time

from click.testing import CliRunner

from mtdnn_core.api import cli


def laughs(levels: int = 9, width: int = 9) -> str:
    """Each level lists the previous one ``width`` times: width**levels values from a few hundred bytes."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_in_a_plugin_key_value_option_fails_fast(tmp_path):
    value = "{" + laughs().strip().replace("\n", ", ") + "}"
    out = tmp_path / "hnn-eval"
    data = tmp_path / "data"
    data.mkdir()
    args = ["hnn", "evaluate", "--encoder", "tiny-random-bert", "--data-dir", str(data), "--tasks", "wsc273",
            "--output-dir", str(out), "--head-config", f"similarity={value}"]
    runner = CliRunner()
    runner.invoke(cli, ["train", "--config", str(tmp_path / "missing.yml")])  # the CLI's imports done before timing
    runner.invoke(cli, ["hnn", "evaluate", "--help"])
    start = time.perf_counter()
    result = runner.invoke(cli, args)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert "--head-config similarity" in result.output and "aliases (*name) expand it" in result.output, result.output
    assert elapsed < 1.0
    assert not out.exists()
