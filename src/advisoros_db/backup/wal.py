"""Continuous WAL archiving: pg_receivewal through a replication slot, completed files encrypted.

pg_receivewal writes into `wal/incoming`; each segment it completes (and each timeline history)
is encrypted into `wal/` and its plaintext deleted. Only the segment being written is plaintext.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from advisoros_db.backup import walfiles
from advisoros_db.backup.crypt import KEY_ENV, BackupCipher, BackupError
from advisoros_db.backup.repository import Repository
from advisoros_db.backup.source import Source
from advisoros_db.cluster import binaries

SLOT = "advisoros_backup"
APP_NAME = "advisoros_backup"
SOURCE_ENV = "ADVISOROS_BACKUP_SOURCE_URL"


def sweep(repo: Repository, cipher: BackupCipher, *, final: bool = False) -> list[str]:
    """Store each file pg_receivewal has finished with in the archive (idempotently: after a
    failover it re-reads WAL the archive holds) and delete its plaintext; returns their names.
    A partial segment is still being written only when it is the newest one (an older one was
    left at a timeline switch); `final` (the stream has stopped): the newest too."""
    moved: list[str] = []
    if not repo.incoming.exists():
        return moved
    files = [
        p for p in sorted(repo.incoming.iterdir()) if p.is_file() and not p.name.endswith(".tmp")
    ]
    partials = [(s, p) for p in files if (s := walfiles.parse(p.name)) and s.partial]
    writing = None if final or not partials else max(partials, key=_position)[1]
    for path in files:
        if path == writing:
            continue
        walfiles.store(repo, cipher, path)
        path.unlink()
        moved.append(path.name)
    return moved


def _position(item: tuple[walfiles.Segment, Path]) -> tuple[int, int]:
    return item[0].number, item[0].timeline


def ensure_slot(source: Source) -> None:
    """The archive's physical slot on the primary, reserving WAL from now on."""
    with psycopg.connect(source.url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_create_physical_replication_slot(%s, true)"
            " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
            (SLOT, SLOT),
        )


def set_synchronous(source: Source, synchronous: bool) -> None:
    """Make the primary's commits wait for the archive's flush (or stop waiting)."""
    value = f'"{APP_NAME}"' if synchronous else ""
    with psycopg.connect(source.url, autocommit=True, connect_timeout=10) as conn:
        current = conn.execute("SHOW synchronous_standby_names").fetchone()
        if current is not None and current[0] == value:
            return
        conn.execute(
            sql.SQL("ALTER SYSTEM SET synchronous_standby_names = {}").format(sql.Literal(value))
        )
        conn.execute("SELECT pg_reload_conf()")


def run_streamer(repo: Repository, cipher: BackupCipher, source: Source) -> None:
    """Keep pg_receivewal running and sweep its output until SIGTERM (the streamer process)."""
    repo.prepare()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    conn_args, env = source.client_args(application_name=APP_NAME)
    args = [
        binaries.binary("pg_receivewal"),
        *conn_args,
        "-D",
        str(repo.incoming),
        "-S",
        SLOT,
        "--synchronous",
        "--no-loop",
        "--no-password",
        "--status-interval=1",
    ]
    log = open(repo.wal / "streamer.log", "a")  # noqa: SIM115 - lives as long as the process
    child: subprocess.Popen[bytes] | None = None
    while not stopping:
        if child is None or child.poll() is not None:
            if child is not None:
                time.sleep(1)  # the primary is away: retry, without spinning
                if stopping:
                    break
            with contextlib.suppress(psycopg.Error):
                ensure_slot(source)
            child = subprocess.Popen(
                args,
                env={**os.environ, **env},
                stdout=log,
                stderr=log,
                preexec_fn=binaries.tie_to_parent,  # noqa: PLW1509 - no threads here
            )
        sweep(repo, cipher)
        time.sleep(0.2)
    if child is not None and child.poll() is None:
        child.terminate()
        child.wait(10)
    sweep(repo, cipher, final=True)


@dataclass(frozen=True)
class StreamerState:
    pid: int | None
    running: bool
    source: str | None


def streamer_state(repo: Repository) -> StreamerState:
    path = repo.wal / "streamer.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return StreamerState(None, False, None)
    pid = int(data["pid"])
    running = False
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        running = proc.status() != psutil.STATUS_ZOMBIE and "advisoros_db.backup" in " ".join(
            proc.cmdline()
        )
    return StreamerState(pid, running, str(data.get("source")))


def start_streamer(
    repo: Repository, source: Source, key: str, *, synchronous: bool = False, timeout: float = 60
) -> StreamerState:
    """Start the background streamer (or keep the one already streaming from `source`)."""
    repo.prepare()
    state = streamer_state(repo)
    if state.running and state.source == source.address:
        set_synchronous(source, synchronous)
        return state
    if state.running:
        stop_streamer(repo)
    ensure_slot(source)
    # posix_spawn, not Popen: the streamer outlives this command, and no Popen object is left
    # to warn about a child still running.
    log = str(repo.wal / "streamer.log")
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "advisoros_db.backup.streamer", str(repo.root)],
        {**os.environ, KEY_ENV: key, SOURCE_ENV: source.url},
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
        ],
        setsid=True,
    )
    (repo.wal / "streamer.json").write_text(json.dumps({"pid": pid, "source": source.address}))
    wait_streaming(source, timeout=timeout, repo=repo)
    set_synchronous(source, synchronous)
    return streamer_state(repo)


def stop_streamer(repo: Repository, timeout: float = 30) -> None:
    state = streamer_state(repo)
    if state.pid is None or not state.running:
        return
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(state.pid)
        proc.terminate()
        proc.wait(timeout)


def stream_status(source: Source) -> dict[str, object] | None:
    """The archive's replication connection as the primary sees it, or None when not connected."""
    with psycopg.connect(source.url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT state, sync_state, flush_lsn::text,"
            " EXTRACT(EPOCH FROM now() - reply_time)::float8"
            " FROM pg_stat_replication WHERE application_name = %s",
            (APP_NAME,),
        ).fetchone()
    if row is None:
        return None
    return {"state": row[0], "sync_state": row[1], "flush_lsn": row[2], "reply_age_s": row[3]}


def wait_streaming(source: Source, *, timeout: float, repo: Repository | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status = stream_status(source)
        if status is not None and status["state"] == "streaming":
            return
        if time.monotonic() > deadline:
            where = f"; read {repo.wal / 'streamer.log'}" if repo else ""
            raise BackupError(f"the WAL stream did not start within {timeout:.0f} s{where}")
        time.sleep(0.1)


def wait_archived(source: Source, lsn: str, *, timeout: float = 60) -> None:
    """Return once the archive has flushed WAL up to `lsn` (BackupError after `timeout`)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(source.url, autocommit=True, connect_timeout=5) as conn:
        while True:
            row = conn.execute(
                "SELECT flush_lsn::text, flush_lsn >= %s::pg_lsn FROM pg_stat_replication"
                " WHERE application_name = %s",
                (lsn, APP_NAME),
            ).fetchone()
            if row is not None and row[1]:
                return
            if time.monotonic() > deadline:
                raise BackupError(
                    f"the WAL archive has not flushed {lsn} within {timeout:.0f} s (archive at "
                    f"{row[0] if row else 'not streaming'}); is the streamer running?"
                )
            time.sleep(0.05)


def stage(repo: Repository, cipher: BackupCipher, dest: Path) -> int:
    """Decrypt the whole archive into `dest` for restore_command, and the segment being written
    under its final name; returns the number of files."""
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    from_partial: set[str] = set()
    for name in repo.archived_wal():
        final = dest / name.removesuffix(".partial")
        if name.endswith(".partial"):
            if (repo.wal / f"{final.name}.enc").exists():
                continue  # the completed segment supersedes what a stopped stream had
            from_partial.add(final.name)
        cipher.decrypt_file(repo.wal / f"{name}.enc", final, name=f"wal/{name}")
        count += 1
    if repo.incoming.exists():
        for partial in repo.incoming.glob("*.partial"):
            final = dest / partial.name.removesuffix(".partial")
            # The live partial is newer than one sealed when an earlier stream stopped.
            if not final.exists() or final.name in from_partial:
                shutil.copyfile(partial, final)
                count += 1
    return count


def newest_archived_lsn(repo: Repository) -> str | None:
    """End of the newest complete segment in the archive (the stream may be further on)."""
    segments = [s for s in map(walfiles.parse, repo.archived_wal()) if s and not s.partial]
    if not segments:
        return None
    return walfiles.lsn_text(max(s.end for s in segments))
