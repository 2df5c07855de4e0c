"""A real PgBouncer 1.18 (Debian's package) in transaction mode in front of the test primary.

Installed with apt when missing (the test command runs as root in CI). When this process is root,
PgBouncer runs as the same unprivileged OS user as the embedded PostgreSQL (it refuses root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from advisoros_db import pooler
from advisoros_db.cluster import binaries
from tests.support import scratch_path

PGBOUNCER = "/usr/sbin/pgbouncer"


def ensure_installed() -> str:
    """The pgbouncer program, installed from the distribution's packages when it is missing."""
    found = shutil.which("pgbouncer") or (PGBOUNCER if Path(PGBOUNCER).exists() else None)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("pgbouncer is not installed: run `apt-get install -y pgbouncer` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, env=env, capture_output=True
    )
    return PGBOUNCER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Bouncer:
    port: int
    server_port: int

    def route(self, url: str) -> str:
        """`url` (pointing at the primary) re-pointed at PgBouncer, same user, password, database."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(
            (parts.scheme, f"{userinfo}@127.0.0.1:{self.port}", parts.path, parts.query, "")
        )


def _userlist(urls: list[str]) -> str:
    lines = []
    for url in urls:
        parts = urlsplit(url)
        assert parts.username and parts.password, f"{url} has no password"
        lines.append(f'"{parts.username}" "{parts.password}"')
    return "\n".join(sorted(set(lines))) + "\n"


@contextmanager
def running_bouncer(
    server_url: str, login_urls: list[str], settings: dict[str, str] | None = None
) -> Iterator[Bouncer]:
    """Start PgBouncer (transaction mode, loopback, SCRAM) for the users of `login_urls`;
    `settings` are added to (or override) its [pgbouncer] section."""
    program = ensure_installed()
    server = urlsplit(server_url)
    folder = scratch_path("advisoros-pgbouncer-")
    port = _free_port()
    (folder / "userlist.txt").write_text(_userlist(login_urls))
    options = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "scram-sha-256",
        "auth_file": f"{folder}/userlist.txt",
        "pool_mode": "transaction",
        "default_pool_size": "20",
        "max_client_conn": "500",
        "server_reset_query": "",
        "logfile": f"{folder}/pgbouncer.log",
        "pidfile": f"{folder}/pgbouncer.pid",
        **(settings or {}),
    }
    lines = [f"{key} = {value}".rstrip() for key, value in options.items()]
    (folder / "pgbouncer.ini").write_text(
        f"[databases]\n* = host={server.hostname} port={server.port}\n\n[pgbouncer]\n"
        + "\n".join(lines)
        + "\n"
    )
    user = binaries.server_user("advisoros")
    for path in (folder, *folder.iterdir()):
        binaries.give_to(path, user)
        path.chmod(0o700 if path.is_dir() else 0o600)
    args = [program, str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(
        args,
        user=user.uid,
        group=user.gid,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    bouncer = Bouncer(port=port, server_port=server.port or 5432)
    try:
        _wait_ready(bouncer.route(login_urls[0]), process, folder)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        pooler.forget()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(url: str, process: subprocess.Popen[bytes], folder: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        if process.poll() is not None:
            log = (
                (folder / "pgbouncer.log").read_text()
                if (folder / "pgbouncer.log").exists()
                else ""
            )
            raise RuntimeError(f"pgbouncer exited ({process.returncode}): {log[-2000:]}")
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
