"""One PostgreSQL server process of the embedded cluster: start, stop, kill, and find it again."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import psutil

from advisoros_db.cluster import binaries
from advisoros_db.errors import ClusterError

Role = Literal["primary", "replica", "promoted", "fenced"]


@dataclass
class Node:
    """Where a node lives and how it is reached; persisted in `cluster.json`."""

    name: str
    role: Role
    port: int
    directory: Path

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["directory"] = str(self.directory)
        return data

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Node:
        role = str(data["role"])
        if role not in ("primary", "replica", "promoted", "fenced"):
            raise ClusterError(f"cluster.json names an unknown role {role!r}")
        return cls(
            name=str(data["name"]),
            role=role,  # type: ignore[arg-type]
            port=int(str(data["port"])),
            directory=Path(str(data["directory"])),
        )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (TIME_WAIT leftovers do not count, as
    PostgreSQL itself binds with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def postmaster_pid(node: Node) -> int | None:
    """The pid of the node's running postmaster, or None (no pid file, or a stale one)."""
    pid_file = node.data_dir / "postmaster.pid"
    try:
        first = pid_file.read_text().splitlines()[0]
        pid = int(first.strip())
    except (OSError, IndexError, ValueError):
        return None
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE or "postgres" not in proc.name():
            return None
    except psutil.Error:
        return None
    return pid


def _orphans(node: Node) -> list[psutil.Process]:
    """Backends left behind by a killed postmaster: they keep shared memory and block a restart."""
    target = str(node.data_dir.resolve())
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if "postgres" in (proc.info["name"] or "") and proc.cwd() == target:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def log_tail(node: Node, lines: int = 15) -> str:
    try:
        text = node.log_file.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log yet)"
    return "\n".join(text[-lines:])


def start(node: Node, user: binaries.OsUser) -> None:
    """Start the node if it is not running; recover from a stale pid file or a killed server."""
    if postmaster_pid(node) is not None:
        return
    orphans = _orphans(node)
    for orphan in orphans:
        with contextlib.suppress(psutil.Error):
            orphan.kill()
    psutil.wait_procs(orphans, timeout=10)
    if not _wait_port_free(node.port, 2 if orphans else 0):
        raise ClusterError(
            f"port {node.port} on 127.0.0.1, which node {node.name!r} uses, is taken by another "
            f"process; stop that process, or run `advisoros-db down --destroy` to start afresh "
            f"on free ports"
        )
    # The log holds slow statements and connection details: only the server user reads it.
    node.log_file.touch(mode=0o600, exist_ok=True)
    node.log_file.chmod(0o600)
    binaries.give_to(node.log_file, user)
    done = binaries.run(
        [
            binaries.binary("pg_ctl"),
            "-D",
            str(node.data_dir),
            "-l",
            str(node.log_file),
            "-w",
            "-t",
            # A replica restarted after a crash replays WAL up to a consistent point first;
            # on a busy 2-core machine that takes longer than pg_ctl's default minute.
            "180",
            "start",
        ],
        user=user,
        check=False,
        timeout=200,
    )
    if done.returncode != 0 or postmaster_pid(node) is None:
        raise ClusterError(
            f"node {node.name!r} did not start on port {node.port}; its log is {node.log_file}:\n"
            f"{log_tail(node)}"
        )


def stop(node: Node, user: binaries.OsUser, *, mode: str = "fast") -> None:
    """Stop the node cleanly (no-op when it is not running)."""
    if postmaster_pid(node) is None:
        return
    binaries.run(
        [binaries.binary("pg_ctl"), "-D", str(node.data_dir), "-m", mode, "-w", "-t", "60", "stop"],
        user=user,
    )


def kill(node: Node) -> None:
    """Crash the node: SIGKILL the postmaster and every backend, as a power cut would."""
    pid = postmaster_pid(node)
    if pid is None:
        return
    victims: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        proc = psutil.Process(pid)
        victims = [proc, *proc.children(recursive=True)]
    for victim in victims:
        with contextlib.suppress(psutil.Error):
            victim.send_signal(signal.SIGKILL)
    psutil.wait_procs(victims, timeout=10)
    _wait_port_free(node.port, 10)


def _wait_port_free(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def save_state(path: Path, nodes: list[Node], extra: dict[str, object]) -> None:
    payload = {**extra, "nodes": [n.to_json() for n in nodes]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)
