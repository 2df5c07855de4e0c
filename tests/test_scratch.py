"""Scratch folders of the test run do not outlive it (failover tests left 126 MB each in /tmp)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_scratch_folders_are_removed_when_the_test_process_ends() -> None:
    script = (
        "from tests.support import scratch_path\n"
        "p = scratch_path('advisoros-scratch-check-')\n"
        "(p / 'repo').mkdir()\n"
        "(p / 'repo' / 'segment').write_bytes(b'x' * 4096)\n"
        "print(p)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    path = Path(done.stdout.strip())
    assert path.name.startswith("advisoros-scratch-check-")
    assert not path.exists()
