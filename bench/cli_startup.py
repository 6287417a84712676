"""How long a light ``newsbot`` command takes from start to exit, against ``python -c pass``.

Runs ``newsbot --help``, ``newsbot --version`` and ``newsbot sources`` (over an index built
first if needed) as fresh processes, alternating with the baseline so that load on the machine
hits both alike. Prints, per command, the median wall time, the median CPU time (user + system,
which load on a shared machine inflates far less than wall time), and the ratio to the baseline.

Usage: python bench/cli_startup.py [--rounds N] [--index DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NEWSBOT = [sys.executable, "-m", "newsbot"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run of ``command``, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--index", type=Path, help="An index to list (default: built now).")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "TELEGRAM_"))}
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if args.index is None:
            build = [*NEWSBOT, "build", "--corpus", str(REPO / "corpus"), "--index", str(index)]
            subprocess.run(build, check=True, env=env, stdout=subprocess.DEVNULL)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "newsbot --help": [*NEWSBOT, "--help"],
            "newsbot --version": [*NEWSBOT, "--version"],
            "newsbot sources": [*NEWSBOT, "sources", "--index", str(index)],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, command in commands.items():
                runs[name].append(timed(command, env))
    base_wall = statistics.median(w for w, _ in runs["python -c pass"])
    base_cpu = statistics.median(c for _, c in runs["python -c pass"])
    print(f"{'command':20s} {'wall s':>7s} {'cpu s':>7s} {'wall/base':>9s} {'cpu/base':>9s}")
    for name, values in runs.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        cpu_ratio = cpu / max(base_cpu, 1e-3)
        print(f"{name:20s} {wall:7.3f} {cpu:7.3f} {wall / base_wall:9.1f} {cpu_ratio:9.1f}")


if __name__ == "__main__":
    main()
