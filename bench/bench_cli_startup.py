"""Wall time of `derivecli show-grad bce` and `derivecli list`, next to bare Python and SymPy.

Each command runs as a fresh process (what a user waits for), several times; the median is
printed with its ratio to the 1.5 s budget of issue 2 and to a bare `python -c pass`.

    python bench/bench_cli_startup.py [--runs 7]
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BUDGET = 1.5  # seconds, for `derivecli show-grad bce`


def derivecli() -> list[str]:
    script = Path(sys.executable).with_name("derivecli")
    if script.exists():
        return [str(script)]
    found = shutil.which("derivecli")
    return [found] if found else [sys.executable, "-m", "derivecli"]


def timed(cmd: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each run; CPU time varies less with load."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        wall.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cli = derivecli()
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import sympy'", [sys.executable, "-c", "import sympy"]),
        ("derivecli list", cli + ["list"]),
        ("derivecli show-grad bce", cli + ["show-grad", "bce"]),
        ("derivecli show-grad bce --format json", cli + ["show-grad", "bce", "--format", "json"]),
    ]
    print(f"{args.runs} runs each, fresh process per run; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':<40} {'median s':>9} {'min s':>7} {'cpu s':>7} {'/ budget':>9} {'/ python':>9}")
    base = None
    for label, cmd in cases:
        wall, cpu = timed(cmd, args.runs)
        med = statistics.median(wall)
        base = base or med
        print(f"{label:<40} {med:>9.3f} {min(wall):>7.3f} {statistics.median(cpu):>7.3f} "
              f"{med / BUDGET:>9.2f} {med / base:>9.1f}")
    print("median s: median wall time; cpu s: median user + system time of the process; "
          f"/ budget: median / {BUDGET} s")


if __name__ == "__main__":
    main()
