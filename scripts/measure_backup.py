"""Measure backups on an own embedded cluster: full and incremental backup time and size, restore
and verify time, RPO with asynchronous and synchronous WAL streaming, failover time.

    python scripts/measure_backup.py --scale small [--json out.json]

Numbers depend on the machine and its load: report them with both.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from advisoros_db import datagen, migrations
from advisoros_db.backup import Backups, Target
from advisoros_db.backup.wal import set_synchronous
from advisoros_db.cluster import Cluster, node
from advisoros_db.cluster import failover as failover_ops
from advisoros_db.settings import Settings
from advisoros_db.targets import Target as DeploymentTarget
from advisoros_db.targets import embedded_cluster


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    value = fn()
    return value, time.monotonic() - start


def _rpo(cluster: Cluster, backups: Backups, scratch: Path, synchronous: bool) -> dict[str, object]:
    """Commit one row per transaction, kill the primary mid-load, restore the newest point from
    the archive: acknowledged commits missing from it are the loss."""
    url = cluster.url("primary")
    set_synchronous(backups.source, synchronous)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS rpo (id bigint PRIMARY KEY, mode text)")
        conn.execute("TRUNCATE rpo")
    acked = 0
    stop = threading.Event()

    def writer() -> None:
        nonlocal acked
        with psycopg.connect(url, autocommit=True) as conn:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    conn.execute("INSERT INTO rpo VALUES (%s, %s)", (i, str(synchronous)))
                except psycopg.Error:
                    return
                acked = i

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(3)  # a measurement, not a test: a few seconds of load before the crash
    cluster.kill_node("primary")
    stop.set()
    thread.join()
    folder = scratch / f"rpo-{'sync' if synchronous else 'async'}"
    restored = backups.restore(folder, target=Target(), keep_running=True)
    try:
        with psycopg.connect(restored.url.rsplit("/", 1)[0] + "/advisoros") as conn:
            row = conn.execute("SELECT coalesce(max(id), 0) FROM rpo").fetchone()
        have = int(row[0]) if row else 0
    finally:
        node.kill(restored.node)
        shutil.rmtree(folder, ignore_errors=True)
    cluster.start_node("primary")
    backups.stream()
    set_synchronous(backups.source, False)
    return {"acknowledged": acked, "restored": have, "lost": max(0, acked - have)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="small")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-measure-backup-"))
    scratch.chmod(0o755)
    settings = Settings(
        home=scratch / "home",
        backup_dir=scratch / "repo",
        backup_encryption_key=base64.b64encode(os.urandom(32)).decode(),
    )
    cluster = embedded_cluster(settings)
    figures: dict[str, object] = {"scale": args.scale, "load_before": os.getloadavg()}
    backups: Backups | None = None
    try:
        info = cluster.up(1)
        migrations.upgrade(info.primary_url)
        report = datagen.seed(info.primary_url, args.scale)
        figures["rows"] = report.rows
        # Settle the fresh load first (hint bits, visibility map, freezing): with data checksums
        # those page changes are WAL-logged and would count as "changed" in the incremental.
        with psycopg.connect(info.primary_url, autocommit=True) as conn:
            conn.execute("VACUUM (FREEZE, ANALYZE)")
        with psycopg.connect(info.primary_url) as conn:
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        figures["database_bytes"] = row[0] if row else None
        target = DeploymentTarget(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
        backups = Backups.from_settings(settings, target)
        full, seconds = _timed(backups.create)
        figures["full"] = {"seconds": seconds, "bytes": full.size_bytes, "files": full.files}
        with psycopg.connect(info.primary_url, autocommit=True) as conn:
            changed = conn.execute(
                "UPDATE documents SET updated_at = updated_at + interval '1 second'"
                " WHERE id IN (SELECT id FROM documents TABLESAMPLE BERNOULLI (2))"
            ).rowcount
        figures["writes_before_incremental"] = f"UPDATE of {changed} documents rows (2% sample)"
        inc, seconds = _timed(lambda: backups.create(incremental=True))
        figures["incremental"] = {"seconds": seconds, "bytes": inc.size_bytes, "files": inc.files}
        _, seconds = _timed(
            lambda: backups.restore(scratch / "restore", target=Target(immediate=True))
        )
        figures["restore_chain_seconds"] = seconds
        shutil.rmtree(scratch / "restore", ignore_errors=True)
        _, seconds = _timed(lambda: backups.verify(inc.id))
        figures["verify_chain_seconds"] = seconds
        figures["rpo_async"] = _rpo(cluster, backups, scratch, synchronous=False)
        figures["rpo_sync"] = _rpo(cluster, backups, scratch, synchronous=True)
        result = failover_ops.failover(cluster, "replica1")
        start = time.monotonic()
        with psycopg.connect(cluster.url("replica1"), autocommit=True) as conn:
            conn.execute("CREATE TABLE after_failover (v int)")
        figures["failover"] = {
            "seconds": result.seconds,
            "first_write_after_s": time.monotonic() - start,
        }
        figures["load_after"] = os.getloadavg()
    finally:
        if backups is not None:
            backups.stop_streaming()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)
    text = json.dumps(figures, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
