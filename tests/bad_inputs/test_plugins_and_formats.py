"""Broken plugins."""
import os
import subprocess
import sys


def test_strict_mode_help_with_a_broken_plugin_is_a_message(ws, tmp_path):
    dist = tmp_path / "brokenplugin-0.1.dist-info"
    ws.write(dist / "METADATA", "Metadata-Version: 2.1\nName: brokenplugin\nVersion: 0.1\n")
    ws.write(dist / "entry_points.txt", "[mtdnn]\nbroken = brokenplugin_module\n")
    ws.write(tmp_path / "brokenplugin_module.py", "raise ImportError('this plugin is broken on purpose')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "MTDNN_STRICT_PLUGINS": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", "--help"], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "plugin 'broken' (brokenplugin 0.1) failed" in result.stderr and "broken on purpose" in result.stderr
    env["MTDNN_STRICT_PLUGINS"] = "0"  # not strict: the rest of the CLI works, the plugin is reported
    result = subprocess.run([sys.executable, "-m", "mtdnn_core.cli", "plugins"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "broken (brokenplugin 0.1)  FAILED: ImportError: this plugin is broken" in result.stdout
