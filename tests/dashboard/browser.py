"""Headless Chromium for the dashboard tests: installed from Debian's `chromium` package when
missing (CI may be a fresh machine), run with its console routed to stderr."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

# Chromium prints each console message (console.error, uncaught exceptions, failed loads) as
# `...:INFO:CONSOLE:line] "text", source: url (line)` (older builds: `CONSOLE(line)]`) when
# logging goes to stderr.
CONSOLE = re.compile(r":CONSOLE(?::\d+|\(\d+\))\]\s*(.*)")


def ensure_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("chromium is missing: install Debian's `chromium` package (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True, timeout=900)
    subprocess.run(
        ["apt-get", "install", "-y", "chromium"],
        check=True,
        env=env,
        capture_output=True,
        timeout=1800,
    )
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError("apt-get installed chromium but it is not on PATH")
    return found


def _run(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            ensure_chromium(),
            "--headless",
            "--no-sandbox",  # we run as root in CI; the page is our own
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def dump_dom(url: str, profile: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message the page produced."""
    done = _run(url, profile, "--dump-dom")
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout, [m.group(1) for m in CONSOLE.finditer(done.stderr)]


def screenshot(url: str, profile: Path, path: Path, *, size: str = "1280,2600") -> None:
    done = _run(url, profile, f"--screenshot={path}", f"--window-size={size}", "--hide-scrollbars")
    if done.returncode != 0 or not path.is_file():
        raise RuntimeError(f"chromium made no screenshot: {done.stderr[-2000:]}")
