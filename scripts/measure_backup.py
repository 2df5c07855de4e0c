"""Measure backups on an own embedded cluster: full backup time and size, the incremental after
one day of writes at the data set's own recent rate (advisoros_db.bench.day_writes), restore and
verify time, RPO with asynchronous and synchronous WAL streaming, failover time and the WAL
archive's handover to the new primary.

    python scripts/measure_backup.py --scale small [--json out.json]

Numbers depend on the machine and its load: report them with both.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from advisoros_db import datagen, migrations
from advisoros_db.backup import Backups, Target
from advisoros_db.backup.wal import set_synchronous
from advisoros_db.bench.day_writes import write_one_day
from advisoros_db.cluster import Cluster, node
from advisoros_db.cluster import failover as failover_ops
from advisoros_db.settings import Settings
from advisoros_db.targets import Target as DeploymentTarget
from advisoros_db.targets import embedded_cluster


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    value = fn()
    return value, time.monotonic() - start


def _say(text: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"{stamp} load {os.getloadavg()[0]:.1f}: {text}", file=sys.stderr, flush=True)


def _utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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
    figures: dict[str, object] = {
        "scale": args.scale,
        "started_at": _utc(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    backups: Backups | None = None
    try:
        info = cluster.up(1)
        migrations.upgrade(info.primary_url)
        _say(f"seeding {args.scale}")
        report, seconds = _timed(lambda: datagen.seed(info.primary_url, args.scale))
        figures["rows"] = report.rows
        figures["seed_seconds"] = seconds
        # Settle the fresh load first (hint bits, visibility map, freezing): with data checksums
        # those page changes are WAL-logged and would count as "changed" in the incremental.
        _say("VACUUM (FREEZE, ANALYZE)")
        with psycopg.connect(info.primary_url, autocommit=True) as conn:
            conn.execute("VACUUM (FREEZE, ANALYZE)")
        with psycopg.connect(info.primary_url) as conn:
            row = conn.execute(
                "SELECT pg_database_size(current_database()), current_setting('server_version')"
            ).fetchone()
        figures["database_bytes"] = row[0] if row else None
        figures["server_version"] = row[1] if row else None
        target = DeploymentTarget(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
        backups = Backups.from_settings(settings, target)
        _say("full backup")
        full, seconds = _timed(backups.create)
        figures["full"] = {"seconds": seconds, "bytes": full.size_bytes, "files": full.files}
        _say("one day of writes")
        day, seconds = _timed(lambda: write_one_day(info.primary_url))
        figures["day_of_writes"] = {**day.as_dict(), "seconds": seconds}
        _say("incremental backup")
        inc, seconds = _timed(lambda: backups.create(incremental=True))
        figures["incremental"] = {"seconds": seconds, "bytes": inc.size_bytes, "files": inc.files}
        _say("restore of the chain")
        _, seconds = _timed(
            lambda: backups.restore(scratch / "restore", target=Target(immediate=True))
        )
        figures["restore_chain_seconds"] = seconds
        shutil.rmtree(scratch / "restore", ignore_errors=True)
        _say("verify of the chain")
        _, seconds = _timed(lambda: backups.verify(inc.id))
        figures["verify_chain_seconds"] = seconds
        _say("RPO, asynchronous archive")
        figures["rpo_async"] = _rpo(cluster, backups, scratch, synchronous=False)
        _say("RPO, synchronous archive")
        figures["rpo_sync"] = _rpo(cluster, backups, scratch, synchronous=True)
        _say("failover")
        reservations = []
        result = failover_ops.failover(
            cluster,
            "replica1",
            prepare=lambda url: reservations.append(backups.reserve_on_standby(url)),
        )
        start = time.monotonic()
        with psycopg.connect(cluster.url("replica1"), autocommit=True) as conn:
            conn.execute("CREATE TABLE after_failover (v int)")
        first_write = time.monotonic() - start
        new_info = cluster.info()
        # What `advisoros-db failover` does next: the streamer follows the new primary.
        backups = Backups.from_settings(
            settings,
            DeploymentTarget(
                admin_url=new_info.primary_url, app_url=new_info.app_url, cluster=cluster
            ),
        )
        _, repoint = _timed(backups.stream)
        with psycopg.connect(new_info.primary_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        _, caught_up = _timed(lambda: backups.wait_archived(str(row[0]) if row else "0/0", 600))
        figures["failover"] = {
            "seconds": result.seconds,
            "first_write_after_s": first_write,
            "archive_held_from": reservations[0].held_from,
            "archive_end_before": reservations[0].archive_end,
            "archive_gap": reservations[0].gap,
            "archive_repoint_seconds": repoint,
            "archive_caught_up_seconds": caught_up,
        }
        figures["finished_at"] = _utc()
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
