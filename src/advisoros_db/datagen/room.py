"""Room on disk for a data set, checked before loading it into the embedded cluster.

A `large` bench on 2026-12-05 (the data set plus the naive baseline, a primary and two replicas)
filled the disk half an hour in: the primary held 19 GB and each replica 21 GB, and the run died
with nothing written. Every node keeps a full copy, so the need grows with the replicas.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from advisoros_db.datagen.scales import Scale
from advisoros_db.errors import ConfigError

# Measured at `large` (1,000,000 documents): 21 GB on a replica, the data set and the naive
# baseline with their indexes and WAL. The other tables scale with the documents.
BYTES_PER_DOCUMENT_PER_NODE = 21_000
# `--measure-limit` writes every table's rows to files and loads them again.
LIMIT_FILES_FACTOR = 0.5
GB = 1_000_000_000


def needed_bytes(scale: Scale, nodes: int, *, measure_limit: bool = False) -> int:
    """Disk the data set at `scale` takes on `nodes` servers sharing one file system."""
    per_node = scale.documents * BYTES_PER_DOCUMENT_PER_NODE
    files = per_node * LIMIT_FILES_FACTOR if measure_limit else 0
    return int(per_node * nodes + files)


def _size(path: Path) -> int:
    total = 0
    # os.walk skips a folder that vanishes while it is listed (a running server removes temp
    # and WAL files and folders); Path.rglob raised FileNotFoundError from the listing itself.
    for folder, _, files in os.walk(path, onerror=lambda _: None):
        for name in files:
            file = Path(folder) / name
            try:
                if not file.is_symlink():
                    total += file.stat().st_size
            except OSError:  # removed between the listing and the stat
                continue
    return total


def ensure_room(
    home: Path, scale: Scale, nodes: int, *, measure_limit: bool = False, free: int | None = None
) -> None:
    """Raise ConfigError, before anything is loaded, when the file system under `home` cannot
    hold the data set. What the cluster already holds counts as room (a reload replaces it).
    `free` defaults to the file system's free bytes now."""
    needed = needed_bytes(scale, nodes, measure_limit=measure_limit)
    if free is None:
        free = shutil.disk_usage(home).free
    have = free + (_size(home) if home.exists() else 0)
    if have >= needed:
        return
    raise ConfigError(
        f"not enough disk for the {scale.name!r} data set on {nodes} servers: it needs about "
        f"{needed / GB:,.1f} GB under {home} (about {BYTES_PER_DOCUMENT_PER_NODE * scale.documents / GB:,.1f} "
        f"GB per server, measured), and {free / GB:,.1f} GB are free. Free some space, or run "
        "with fewer replicas (`advisoros-db down`, then `advisoros-db up --replicas 0`)."
    )
