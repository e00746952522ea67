"""The command line starts without torch: --help and plugins read the cached plugin inventory."""
import json
import os
import subprocess
import sys

from mtdnn_core import inventory

PROBE = """
import sys
from mtdnn_core.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("HEAVY:", sorted(m for m in ("torch", "transformers", "numpy", "pydantic") if m in sys.modules))
"""


def run(args, cache_dir):
    env = {**os.environ, "MTDNN_CACHE_DIR": str(cache_dir)}
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_and_plugins_do_not_import_torch_once_the_inventory_is_cached(tmp_path):
    first = run(["--help"], tmp_path)  # builds the inventory (loads every plugin once)
    assert "train" in first and "plot" in first
    assert list(tmp_path.glob("inventory-*.json"))
    again = run(["--help"], tmp_path)
    assert again.splitlines()[:-1] == first.splitlines()[:-1]
    assert "HEAVY: []" in again
    listing = run(["plugins"], tmp_path)
    assert "core.heads (built-in)" in listing and "HEAVY: []" in listing


def test_help_lists_plugin_commands_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MTDNN_CACHE_DIR", str(tmp_path))
    path = inventory._cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fingerprint": inventory.fingerprint(), "plugins": [],
                                "commands": {"zzcached": "A command only the cache knows."}}))
    out = run(["--help"], tmp_path)
    assert "zzcached" in out and "A command only the cache knows." in out
    key = inventory.fingerprint()
    monkeypatch.setenv("MTDNN_DISABLE_PLUGINS", "glue")  # another plugin selection: the cache is not reused
    assert inventory.fingerprint() != key
