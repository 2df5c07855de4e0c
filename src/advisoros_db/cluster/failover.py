"""Failover and rejoin of the embedded cluster.

`failover` fences the primary first (stopped, and a standby.signal in its data directory so a
manual start comes up read-only), then promotes a replica through `Cluster.promote` and points
the other replicas at it. `rejoin` rewinds the fenced node with pg_rewind and starts it as a
streaming replica of the new primary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from advisoros_db.cluster import binaries, credentials, node
from advisoros_db.cluster.manager import Cluster
from advisoros_db.cluster.node import Node
from advisoros_db.errors import ClusterError

_REPLICA_KEYS = ("primary_conninfo", "primary_slot_name", "synchronous_standby_names")


@dataclass(frozen=True)
class FailoverResult:
    old_primary: str
    new_primary: str
    repointed: list[str]
    seconds: float


def choose_target(cluster: Cluster, to: str | None, dr_port: int | None) -> Node:
    """`to`; else the replica on the configured DR port; else the running replica least behind."""
    replicas = [n for n in cluster.nodes() if n.role == "replica"]
    if to is not None:
        target = cluster.node(to)
        if target.role != "replica":
            raise ClusterError(f"cannot fail over to {to!r}: it is a {target.role}, not a replica")
        return target
    if dr_port is not None:
        for item in replicas:
            if item.port == dr_port:
                return item
    running = [s for s in cluster.status() if s.role == "replica" and s.running]
    if not running:
        raise ClusterError("no running replica to fail over to; start one with `advisoros-db up`")
    best = min(running, key=lambda s: s.lag_bytes if s.lag_bytes is not None else 1 << 62)
    return cluster.node(best.name)


def fence(cluster: Cluster, old: Node) -> None:
    """Make sure the old primary takes no more writes: stop it, and leave a standby.signal so
    that even a manual start brings it up read-only."""
    try:
        node.stop(old, cluster.user)
    except ClusterError:
        node.kill(old)  # it would not stop cleanly: a crash is safer than a second primary
    signal_file = old.data_dir / "standby.signal"
    signal_file.touch()
    binaries.give_to(signal_file, cluster.user)


def failover(
    cluster: Cluster,
    to: str | None = None,
    *,
    dr_port: int | None = None,
    prepare: Callable[[str], object] | None = None,
) -> FailoverResult:
    """`prepare` is called with the chosen replica's superuser URL before anything changes (the
    WAL archive reserves its WAL there); when it fails, the failover does not happen."""
    started = time.monotonic()
    old = next((n for n in cluster.nodes() if n.role == "primary"), None)
    if old is None:
        raise ClusterError(f"the cluster in {cluster.home} has no primary to fail over from")
    target = choose_target(cluster, to, dr_port)
    if prepare is not None:
        prepare(cluster.url(target.name))
    fence(cluster, old)
    cluster.set_roles({old.name: "fenced"})
    cluster.promote(target.name)
    cluster.set_roles({target.name: "primary"})
    repointed = []
    for item in cluster.nodes():
        if item.role == "replica" and node.postmaster_pid(item) is not None:
            follow(cluster, item, target)
            repointed.append(item.name)
    return FailoverResult(old.name, target.name, repointed, time.monotonic() - started)


def _slot_for(cluster: Cluster, primary: Node, replica: Node) -> str:
    slot = f"advisoros_{replica.name}"
    with psycopg.connect(cluster.url(primary.name), autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_create_physical_replication_slot(%s, true)"
            " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
            (slot, slot),
        )
    return slot


def _conninfo(cluster: Cluster, primary: Node, replica: Node) -> str:
    creds = cluster.credentials()
    return make_conninfo(
        "",
        host="127.0.0.1",
        port=str(primary.port),
        user=credentials.SUPERUSER,
        password=creds.superuser_password,
        application_name=replica.name,
    )


def follow(cluster: Cluster, replica: Node, primary: Node) -> None:
    """Point a running replica at a new primary (primary_conninfo reloads without a restart)."""
    slot = _slot_for(cluster, primary, replica)
    with psycopg.connect(cluster.url(replica.name), autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(
                sql.Literal(_conninfo(cluster, primary, replica))
            )
        )
        conn.execute(sql.SQL("ALTER SYSTEM SET primary_slot_name = {}").format(sql.Literal(slot)))
        conn.execute("SELECT pg_reload_conf()")
    wait_streaming(cluster, primary, replica.name)


def rejoin(cluster: Cluster, name: str) -> float:
    """Bring a fenced (or stopped former) primary back as a streaming replica; returns seconds."""
    started = time.monotonic()
    item = cluster.node(name)
    if item.role not in ("fenced", "replica"):
        raise ClusterError(f"{name!r} is the {item.role}; only a fenced node or replica can rejoin")
    primary = next((n for n in cluster.nodes() if n.role == "primary"), None)
    if primary is None:
        raise ClusterError("no primary to rejoin; run `advisoros-db failover` first")
    node.stop(item, cluster.user)
    # pg_rewind may run crash recovery in single-user mode, which refuses standby mode.
    (item.data_dir / "standby.signal").unlink(missing_ok=True)
    source = conninfo_to_dict(_conninfo(cluster, primary, item))
    password = str(source.pop("password"))
    source["dbname"] = "postgres"
    binaries.run(
        [
            binaries.binary("pg_rewind"),
            f"--target-pgdata={item.data_dir}",
            f"--source-server={make_conninfo('', **source)}",
        ],
        user=cluster.user,
        env={"PGPASSWORD": password},
        timeout=3600,
    )
    slot = _slot_for(cluster, primary, item)
    auto = item.data_dir / "postgresql.auto.conf"
    kept = [
        line
        for line in (auto.read_text().splitlines() if auto.exists() else [])
        if not line.strip().startswith(_REPLICA_KEYS)
    ]
    conninfo = _conninfo(cluster, primary, item).replace("'", "''")
    kept += [f"primary_conninfo = '{conninfo}'", f"primary_slot_name = '{slot}'"]
    auto.write_text("\n".join(kept) + "\n")
    (item.data_dir / "standby.signal").touch()
    for path in (auto, item.data_dir / "standby.signal"):
        binaries.give_to(path, cluster.user)
    cluster.write_conf(name)  # pg_rewind copied the source's settings file, with its port
    cluster.set_roles({name: "replica"})
    node.start(cluster.node(name), cluster.user)
    wait_streaming(cluster, primary, name)
    drop_slots(cluster, name)
    return time.monotonic() - started


def drop_slots(cluster: Cluster, name: str) -> None:
    """Drop the slots a rejoined node kept from its days as primary (pg_rewind leaves
    pg_replslot alone): a replica here feeds no one, and a stale slot would hold its WAL forever."""
    with psycopg.connect(cluster.url(name), autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active"
        )


def wait_streaming(cluster: Cluster, primary: Node, name: str, timeout: float = 60) -> None:
    slot = f"advisoros_{name}"
    deadline = time.monotonic() + timeout
    with psycopg.connect(cluster.url(primary.name), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT active FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            ).fetchone()
            if row is not None and row[0]:
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"{name} does not stream from {primary.name} after {timeout:.0f} s; "
                    f"read {cluster.node(name).log_file}"
                )
            time.sleep(0.1)
