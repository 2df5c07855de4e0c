"""Measure backups: full backup time and size, the incremental after one day of writes at the data
set's own recent rate (advisoros_db.bench.day_writes), restore and verify time; on an own cluster
also RPO with asynchronous and synchronous WAL streaming, failover time and the WAL archive's
handover to the new primary.

    python scripts/measure_backup.py --scale small [--json out.json]
        an own embedded cluster (a primary and one replica), seeded at --scale, destroyed after
    python scripts/measure_backup.py --home DIR --work DIR --scale large [--json out.json]
        an embedded cluster already running under DIR and seeded at --scale: never started,
        stopped or destroyed here. It gets the day of writes (kept), a VACUUM (FREEZE, ANALYZE)
        before the full backup (--no-vacuum skips it), the WAL archive's replication slot for
        the run (dropped after); the repository and the restored copies live in a new folder
        under --work, deleted after. RPO and failover need a replica and kill or fence the
        primary: skipped, and the JSON says so.

Before each backup, restore and verify the free disk is checked against what that step writes
(advisoros_db.backup.room); a step that does not fit is refused (the first) or skipped (restore,
verify), with the reason in the JSON. Numbers depend on the machine and its load: report both.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import psycopg
from psycopg import sql

from advisoros_db import datagen, embedded, migrations
from advisoros_db.backup import Backups, Target, room
from advisoros_db.backup.crypt import BackupError
from advisoros_db.backup.repository import BackupRecord, kill_processes_using
from advisoros_db.backup.wal import SLOT, set_synchronous
from advisoros_db.bench.day_writes import write_one_day
from advisoros_db.cluster import Cluster, node
from advisoros_db.cluster import failover as failover_ops
from advisoros_db.errors import AdvisorOSError
from advisoros_db.settings import Settings
from advisoros_db.targets import Target as DeploymentTarget
from advisoros_db.targets import embedded_cluster

T = TypeVar("T")
NOT_ON_EXISTING = (
    "not run on an existing cluster (--home): it {does}, which this run must not do to a cluster "
    "it did not start; measured at medium on an own cluster (docs/backup.md)"
)
SKIPPED_ON_EXISTING = {
    "rpo_async": NOT_ON_EXISTING.format(does="kills the primary mid-load"),
    "rpo_sync": NOT_ON_EXISTING.format(does="kills the primary mid-load"),
    "failover": NOT_ON_EXISTING.format(does="needs a replica, promotes it and fences the primary"),
}


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.monotonic()
    value = fn()
    return value, time.monotonic() - start


def _say(text: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"{stamp} load {os.getloadavg()[0]:.1f}: {text}", file=sys.stderr, flush=True)


def _utc() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _scalar(url: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def _settle(url: str, figures: dict[str, Any]) -> None:
    """Settle a load first (hint bits, visibility map, freezing): with data checksums those page
    changes are WAL-logged and would count as "changed" in the incremental."""
    _say("VACUUM (FREEZE, ANALYZE)")
    with psycopg.connect(url, autocommit=True) as conn:
        _, figures["vacuum_seconds"] = _timed(lambda: conn.execute("VACUUM (FREEZE, ANALYZE)"))


def _measure(
    figures: dict[str, Any], backups: Backups, url: str, work: Path, *, reserve: int, verify: bool
) -> None:
    """Full backup, one day of writes, incremental, restore and verify of the chain."""
    skipped: dict[str, str] = figures.setdefault("skipped", {})
    figures["database_bytes"] = _scalar(url, "SELECT pg_database_size(current_database())")
    figures["server_version"] = _scalar(url, "SELECT current_setting('server_version')")
    need = room.create_need(room.databases_bytes(url))
    figures["full_need_bytes"] = need.parts
    room.ensure_room(work, need, reserve=reserve)
    _say(
        f"D = {need.parts['plaintext staging'] / room.GB:,.1f} GB: a restore and a verify of the "
        "chain will need 2D + 2i + R + 2W (i: the incremental, R: the files it rebuilds, W: the WAL "
        "archive), checked once the incremental is taken"
    )
    _say(f"full backup (writes about {need.bytes / room.GB:,.1f} GB: {need.describe()})")
    full, seconds = _timed(backups.create)
    figures["full"] = {"seconds": seconds, "bytes": full.size_bytes, "files": full.files}
    _say("one day of writes")
    day, seconds = _timed(lambda: write_one_day(url))
    figures["day_of_writes"] = {**day.as_dict(), "seconds": seconds}
    _say("incremental backup")
    inc, seconds = _timed(lambda: backups.create(incremental=True))
    figures["incremental"] = {"seconds": seconds, "bytes": inc.size_bytes, "files": inc.files}
    steps: dict[str, Callable[[BackupRecord], object]] = {
        "restore": lambda record: backups.restore(
            work / "restore", backup_id=record.id, target=Target(immediate=True)
        ),
        "verify": lambda record: backups.verify(record.id),
    }
    for step, run in steps.items():
        if step == "verify" and not verify:
            skipped["verify_chain"] = "--no-verify"
            continue
        # The chain; when it cannot fit (the files the incremental rebuilds), the full backup alone.
        for record, what in ((inc, "chain"), (full, "full")):
            name = f"{step}_{what}"
            need = room.restore_need(backups.repo, backups.cipher, record)
            figures[f"{name}_need_bytes"] = need.parts
            try:
                room.ensure_room(work, need, reserve=reserve)
            except BackupError as exc:
                skipped[name] = str(exc)
                _say(f"{name} skipped: {exc}")
                continue
            _say(f"{step} of the {what} (writes about {need.bytes / room.GB:,.1f} GB)")
            try:
                _, figures[f"{name}_seconds"] = _timed(lambda: run(record))  # noqa: B023
            finally:
                shutil.rmtree(work / "restore", ignore_errors=True)
            break


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


def _failover(cluster: Cluster, settings: Settings, backups: Backups) -> dict[str, object]:
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
        DeploymentTarget(admin_url=new_info.primary_url, app_url=new_info.app_url, cluster=cluster),
    )
    _, repoint = _timed(backups.stream)
    with psycopg.connect(new_info.primary_url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    _, caught_up = _timed(lambda: backups.wait_archived(str(row[0]) if row else "0/0", 600))
    return {
        "seconds": result.seconds,
        "first_write_after_s": first_write,
        "archive_held_from": reservations[0].held_from,
        "archive_end_before": reservations[0].archive_end,
        "archive_gap": reservations[0].gap,
        "archive_repoint_seconds": repoint,
        "archive_caught_up_seconds": caught_up,
    }


def own_cluster(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="advisoros-measure-backup-", dir=args.work))
    scratch.chmod(0o755)
    settings = Settings(
        home=scratch / "home", backup_dir=scratch / "repo", backup_encryption_key=_new_key()
    )
    cluster = embedded_cluster(settings)
    backups: Backups | None = None
    try:
        info = cluster.up(1)
        migrations.upgrade(info.primary_url)
        _say(f"seeding {args.scale}")
        report, seconds = _timed(lambda: datagen.seed(info.primary_url, args.scale))
        figures["rows"] = report.rows
        figures["seed_seconds"] = seconds
        _settle(info.primary_url, figures)
        target = DeploymentTarget(admin_url=info.primary_url, app_url=info.app_url, cluster=cluster)
        backups = Backups.from_settings(settings, target)
        _measure(
            figures,
            backups,
            info.primary_url,
            scratch,
            reserve=int(args.reserve_gb * room.GB),
            verify=args.verify,
        )
        _say("RPO, asynchronous archive")
        figures["rpo_async"] = _rpo(cluster, backups, scratch, synchronous=False)
        _say("RPO, synchronous archive")
        figures["rpo_sync"] = _rpo(cluster, backups, scratch, synchronous=True)
        _say("failover")
        figures["failover"] = _failover(cluster, settings, backups)
    finally:
        if backups is not None:
            backups.stop_streaming()
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)


def _refuse(text: str) -> NoReturn:
    raise SystemExit(f"measure_backup: {text}")


def existing_cluster(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """Measure on the running cluster under --home: check everything before writing anything,
    and leave it as found apart from the day of writes and the VACUUM's settling."""
    home: Path = args.home.absolute()
    work: Path = args.work.absolute()
    check = Settings(home=home, database_url=None, backup_encryption_key=_new_key())
    try:
        target = embedded.resolve(check)  # never starts a cluster
    except AdvisorOSError as exc:
        _refuse(f"no running embedded cluster under {home}: {exc}")
    url = target.admin_url
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT pg_is_in_recovery(), current_setting('summarize_wal'),"
            " current_setting('synchronous_standby_names'),"
            " EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
            (SLOT,),
        ).fetchone()
    assert row is not None
    in_recovery, summarize, standby_names, slot_taken = row
    if in_recovery:
        _refuse(f"the server at {home} is in recovery: give the home of a primary")
    if summarize != "on":
        _refuse(
            "summarize_wal is off on that server, so it cannot take an incremental backup; "
            "ALTER SYSTEM SET summarize_wal = on; SELECT pg_reload_conf(); then run this again"
        )
    if slot_taken:
        _refuse(
            f"the server already has the replication slot {SLOT}: a WAL archive streams from it, "
            "and this run would take over its WAL. Stop that archive, or drop the slot "
            f"(SELECT pg_drop_replication_slot('{SLOT}')) if nothing uses it"
        )
    scale = datagen.get_scale(args.scale)
    figures.update(home=str(home), work=str(work), skipped=dict(SKIPPED_ON_EXISTING))
    work_created = not work.exists()
    work.mkdir(parents=True, exist_ok=True)
    run = Path(tempfile.mkdtemp(prefix="measure-backup-", dir=work))
    run.chmod(0o755)  # restored copies run as the server's OS user and must reach their folder
    settings = Settings(
        home=home, database_url=None, backup_dir=run / "repo", backup_encryption_key=_new_key()
    )
    backups = Backups.from_settings(settings, target)
    reserve = int(args.reserve_gb * room.GB)
    try:
        # Refused before the VACUUM too: nothing is written when the full backup cannot fit.
        need = room.create_need(room.databases_bytes(url))
        room.ensure_room(run, need, reserve=reserve)
        if args.check:
            figures["full_need_bytes"] = need.parts
            figures["check"] = (
                f"can start: D = {need.parts['plaintext staging'] / room.GB:,.1f} GB, the full "
                f"backup writes {need.bytes / room.GB:,.1f} GB, a restore and a verify will need "
                "2D + 2i + R + 2W (checked once the incremental is taken); nothing was written"
            )
            return
        if args.vacuum:
            _settle(url, figures)
        else:
            figures["skipped"]["vacuum"] = "--no-vacuum"
        documents = _scalar(url, "SELECT count(*) FROM documents")
        figures["documents"] = {"found": documents, "scale": scale.documents}
        if documents != scale.documents:
            _say(f"{documents} documents, scale {scale.name} has {scale.documents}: wrong --scale?")
        _measure(figures, backups, url, run, reserve=reserve, verify=args.verify)
    finally:
        figures["cleanup"] = _clean_up(
            backups, url, standby_names=standby_names, run=run, work=work, work_created=work_created
        )


def _clean_up(
    backups: Backups, url: str, *, standby_names: str, run: Path, work: Path, work_created: bool
) -> dict[str, object]:
    """Stop the streamer, drop its slot (it would hold the server's WAL for ever), put
    synchronous_standby_names back, delete the run's folder."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second `kill` must not cut the clean-up short
    done: dict[str, object] = {}
    backups.stop_streaming()
    kill_processes_using(run)  # a restored copy an interruption left running
    try:
        deadline = time.monotonic() + 60
        while _scalar(url, "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)):
            if time.monotonic() > deadline:
                raise BackupError(f"the slot {SLOT} is still in use after 60 s")
            time.sleep(0.2)
        _scalar(
            url,
            "SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots"
            " WHERE slot_name = %s",
            (SLOT,),
        )
        done["slot_dropped"] = True
    except (psycopg.Error, BackupError) as exc:
        done["slot_dropped"] = False
        _say(
            f"could not drop the slot {SLOT} ({exc}): drop it by hand, it holds the server's WAL: "
            f"SELECT pg_drop_replication_slot('{SLOT}')"
        )
    if _scalar(url, "SELECT current_setting('synchronous_standby_names')") != standby_names:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(
                    sql.Literal(standby_names)
                )
            )
            conn.execute("SELECT pg_reload_conf()")
        done["synchronous_standby_names_restored"] = standby_names
    shutil.rmtree(run, ignore_errors=True)
    if work_created:
        with_contents = any(work.iterdir())
        if not with_contents:
            work.rmdir()
    done["run_folder_removed"] = not run.exists()
    return done


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(f"measure_backup: stopped by signal {signum}; cleaned up")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scale", default="small")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--home", type=Path, help="measure the running embedded cluster here")
    parser.add_argument("--work", type=Path, help="folder for the repository and restores")
    parser.add_argument(
        "--reserve-gb",
        type=float,
        default=3.0,
        help="disk to leave free at every step's peak (default 3 GB)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="with --home: only check that the run can start (cluster, slot, disk), write nothing",
    )
    parser.add_argument("--no-vacuum", dest="vacuum", action="store_false")
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    args = parser.parse_args()
    # `kill PID` runs the clean-up too (the slot dropped, the work folder deleted); SIGKILL cannot.
    signal.signal(signal.SIGTERM, _terminate)
    if args.home is not None and args.work is None:
        parser.error("--home needs --work: a folder for the backup repository and the restores")
    if args.check and args.home is None:
        parser.error("--check checks a run on an existing cluster: give --home and --work")
    figures: dict[str, Any] = {
        "scale": args.scale,
        "mode": "existing cluster" if args.home else "own cluster",
        "started_at": _utc(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    try:
        if args.home is not None:
            existing_cluster(args, figures)
        else:
            own_cluster(args, figures)
    except BackupError as exc:
        figures["error"] = str(exc)
    figures["finished_at"] = _utc()
    figures["load_after"] = os.getloadavg()
    text = json.dumps(figures, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if "error" in figures:
        _refuse(figures["error"])


if __name__ == "__main__":
    main()
