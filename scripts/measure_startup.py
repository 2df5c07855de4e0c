"""Start-up cost of the command line and the library, as in the README's table.

    .venv/bin/python scripts/measure_startup.py [SRC] [RUNS]

SRC (default: this checkout's src) is put first on PYTHONPATH, so an older tree (e.g. from
`git archive COMMIT src | tar -x -C DIR`) is measured with the same interpreter and packages.
Prints medians of RUNS (default 7): CPU and wall time of `--help`, and `-X importtime`'s
cumulative figure for the CLI, the package and the router.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    src = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "src")
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    env = {**os.environ, "PYTHONPATH": src}
    help_cmd = [sys.executable, "-m", "advisoros_db.cli.app", "--help"]
    cpu, wall = [], []
    for _ in range(runs):
        before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run(help_cmd, env=env, stdout=subprocess.DEVNULL, check=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"--help CPU user+sys: median {statistics.median(cpu):.2f} s ({runs} runs)")
    print(f"--help wall: median {statistics.median(wall):.2f} s ({runs} runs)")
    for module in ("advisoros_db.cli.app", "advisoros_db", "advisoros_db.routing"):
        cumulative = []
        for _ in range(runs):
            err = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", f"import {module}"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stderr
            for line in err.splitlines():
                parts = line.split("|")
                if len(parts) == 3 and parts[2].strip() == module:
                    cumulative.append(int(parts[1]) / 1000)
        print(f"import {module}: median {statistics.median(cumulative):.0f} ms cumulative")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
