"""Facts about the machine and server a benchmark ran on, recorded next to every figure."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import psutil
import psycopg


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> list[float]:
    """The 1, 5 and 15-minute load averages: how busy the cores were with other work."""
    return [round(x, 2) for x in os.getloadavg()]


def facts(conn: psycopg.Connection[Any]) -> dict[str, object]:
    settings = dict(
        conn.execute(
            "SELECT name, setting || COALESCE(unit, '') FROM pg_settings WHERE name = ANY(%s)",
            (["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"],),
        ).fetchall()
    )
    version = conn.execute("SHOW server_version").fetchone()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": version[0] if version else None,
        "server_settings": settings,
        "load_average_start": load(),
    }
