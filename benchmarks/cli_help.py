"""Start-up of the command line: wall and CPU time of `mtdnn --help` and `mtdnn plugins`, now and
(with --before DIR, a checkout whose mtdnn_core is put first on PYTHONPATH) before, in alternating
runs; whether torch gets imported. On a shared machine the CPU time is the steadier number. Prints JSON (and writes it with --out).

    python benchmarks/cli_help.py --runs 5 --before /tmp/before --out benchmarks/results/cli_help_cpu.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = ("import sys\nfrom mtdnn_core.api import cli as main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
         "print('torch imported:', 'torch' in sys.modules, file=sys.stderr)\n")


def timed(args: list[str], env: dict) -> tuple[float, float, bool]:
    """(wall seconds, CPU seconds of the child, whether it imported torch)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # run outside the checkout: the current directory would put its mtdnn_core before PYTHONPATH's
    result = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=600,
                            cwd=tempfile.gettempdir())
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, "torch imported: True" in result.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", default=None, help="a directory holding an earlier mtdnn_core package")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="mtdnn-cache-")
    now = {**os.environ, "MTDNN_CACHE_DIR": cache}
    systems = {"now": now}
    if args.before:
        systems["before"] = {**os.environ, "PYTHONPATH": str(Path(args.before).resolve())}
    results = {"benchmark": "cli_help", "settings": vars(args), "python": sys.version.split()[0],
               "load_average_at_start": os.getloadavg(), "cpus": os.cpu_count()}
    cold, _, _ = timed(["--help"], now)  # builds the plugin inventory once
    results["now_first_call_s"] = round(cold, 3)
    for command in (["--help"], ["plugins"]):
        wall = {name: [] for name in systems}
        cpu = {name: [] for name in systems}
        torch = {name: [] for name in systems}
        for _ in range(args.runs):
            for name, env in systems.items():  # alternating: load on the machine hits both alike
                elapsed, used, imported = timed(command, env)
                wall[name].append(round(elapsed, 3))
                cpu[name].append(round(used, 3))
                torch[name].append(imported)
        results[" ".join(command)] = {
            name: {"median_wall_s": statistics.median(wall[name]), "median_cpu_s": statistics.median(cpu[name]),
                   "wall_s": wall[name], "cpu_s": cpu[name], "torch_imported": torch[name]} for name in systems}
    results["load_average_at_end"] = os.getloadavg()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
