"""Continuous WAL archiving: pg_receivewal through a replication slot, completed files encrypted.

pg_receivewal writes into `wal/incoming`; each segment it completes (and each timeline history)
is encrypted into `wal/` and its plaintext deleted. Only the segment being written is plaintext.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
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
    with _sweep_lock(repo):
        files = [
            p
            for p in sorted(repo.incoming.iterdir())
            if p.is_file() and not p.name.endswith(".tmp")
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


@contextlib.contextmanager
def _sweep_lock(repo: Repository) -> Iterator[None]:
    """Held by every sweep, and by `stage` while it reads `wal/incoming`: while it is held no
    file moves from `wal/incoming` into the archive."""
    try:
        handle = open(repo.wal / ".sweep.lock", "a")  # noqa: SIM115 - closed below
    except OSError:
        handle = None  # a repository no one can write to here has no streamer sweeping into it
    if handle is None:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


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


def stop_streamer(repo: Repository, timeout: float = 120) -> None:
    """Stop the streamer and wait for its last sweep (it seals the segment it was writing into
    the archive), however busy the machine. Only when it has not stopped after `timeout` is it
    killed: its files stay in `wal/incoming`, where the next stream resumes. Either way it has
    exited on return, so a streamer started next never shares `wal/incoming` with it."""
    state = streamer_state(repo)
    if state.pid is None or not state.running:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        proc = psutil.Process(state.pid)
        proc.terminate()
        if not _exited(proc, timeout):
            proc.kill()  # its pg_receivewal dies with it (tie_to_parent)
            if not _exited(proc, 60):
                raise BackupError(f"the WAL streamer (pid {proc.pid}) survived SIGKILL")


def _exited(proc: psutil.Process, timeout: float) -> bool:
    """Whether `proc` exited within `timeout` (reaped when it is our child; a zombie someone
    else started has exited too, only its parent can reap it)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc.wait(0.2)
            return True
        except psutil.TimeoutExpired:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return True
        if time.monotonic() > deadline:
            return False


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


# Which copy of a segment a restore replays, lowest first: a partial sealed when a stream
# stopped, the partial being written now (it holds more), a completed segment.
_SEALED, _LIVE, _COMPLETE = 1, 2, 3


def stage(repo: Repository, cipher: BackupCipher, dest: Path) -> int:
    """Decrypt the whole archive into `dest` for restore_command, with what is still in
    `wal/incoming`: files pg_receivewal finished that no sweep has archived yet, and the segment
    being written under its final name. Returns the number of files. Every WAL record the stream
    flushed before the call is staged, however far behind the streamer's sweep is."""
    dest.mkdir(parents=True, exist_ok=True)
    staged: dict[str, int] = {}  # final name -> rank of the copy in dest
    seen: dict[str, int] = {}  # archived name -> mtime of the copy decrypted
    _stage_archived(repo, cipher, dest, staged, seen)
    with _sweep_lock(repo):
        # Again: a sweep during the pass above archived (or extended) files, gone from incoming.
        _stage_archived(repo, cipher, dest, staged, seen)
        _stage_incoming(repo, dest, staged)
    return len(staged)


def _stage_archived(
    repo: Repository,
    cipher: BackupCipher,
    dest: Path,
    staged: dict[str, int],
    seen: dict[str, int],
) -> None:
    for name in repo.archived_wal():
        encrypted = repo.wal / f"{name}.enc"
        final = name.removesuffix(".partial")
        rank = _SEALED if name.endswith(".partial") else _COMPLETE
        changed = encrypted.stat().st_mtime_ns
        if staged.get(final, 0) > rank or seen.get(name) == changed:
            continue
        cipher.decrypt_file(encrypted, dest / final, name=f"wal/{name}")
        staged[final] = rank
        seen[name] = changed


def _stage_incoming(repo: Repository, dest: Path, staged: dict[str, int]) -> None:
    """Called with the sweep held: files here stay here, but pg_receivewal may rename the
    segment it completes. Listed twice: a name being renamed during one listing may be missing
    from it, and is there under its new name in the other."""
    if not repo.incoming.exists():
        return
    names = {p.name for p in repo.incoming.iterdir()} | {p.name for p in repo.incoming.iterdir()}
    for name in sorted(names):
        final = name.removesuffix(".partial")
        rank = _LIVE if name.endswith(".partial") else _COMPLETE
        if name.endswith(".tmp") or staged.get(final, 0) >= rank:
            continue
        try:
            shutil.copyfile(repo.incoming / name, dest / final)
        except FileNotFoundError:
            if rank != _LIVE:
                raise
            # Completed since the listing: the whole segment is here (no sweep can move it).
            shutil.copyfile(repo.incoming / final, dest / final)
            rank = _COMPLETE
        staged[final] = rank


def newest_archived_lsn(repo: Repository) -> str | None:
    """End of the newest complete segment in the archive (the stream may be further on)."""
    segments = [s for s in map(walfiles.parse, repo.archived_wal()) if s and not s.partial]
    if not segments:
        return None
    return walfiles.lsn_text(max(s.end for s in segments))
