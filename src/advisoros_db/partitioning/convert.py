"""Online conversion of a populated plain table into its partitioned twin, as resumable steps whose
state lives in the database: prepare -> sync -> backfill -> verify -> swap -> (rollback) -> finalize."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, LiteralString

import psycopg
from psycopg import sql

from advisoros_db import advisory, pooler
from advisoros_db.errors import AdvisorOSError
from advisoros_db.partitioning import ddl
from advisoros_db.partitioning.layout import SPECS, TableSpec
from advisoros_db.partitioning.locks import DEFAULT_POLICY, LockPolicy, in_short_transaction
from advisoros_db.partitioning.verify import Verification, compare, partition_conditions

PHASES = ("prepared", "syncing", "backfilled", "verified", "swapped", "rolled_back", "finalized")


# One batch: lock the source rows (FOR SHARE) so no writer can change or delete them between the
# read and the copy; a concurrent change either committed before (we copy its result) or waits for
# us (and its mirror trigger then updates the copy). Without the lock, a delete that commits after
# our read but before our insert leaves a row in the twin that no longer exists: silent divergence.
_BATCH: LiteralString = """
WITH batch AS (
    SELECT * FROM {source} WHERE {after} ORDER BY {pk} LIMIT {size} FOR SHARE
), copied AS (
    INSERT INTO {target} SELECT * FROM batch ON CONFLICT DO NOTHING
)
SELECT (SELECT {pk}::text FROM batch ORDER BY {pk} DESC LIMIT 1), (SELECT count(*) FROM batch)
"""


class ConversionError(AdvisorOSError):
    """A conversion step cannot run in the table's current state; the message says what to run."""


@dataclass(frozen=True)
class State:
    table: str
    phase: str
    last_id: str | None
    rows_copied: int
    verification: dict[str, Any] | None


Progress = Callable[[int, int], None]
"""Called after each backfill batch with (rows copied so far, rows estimated in total)."""


def spec_for(table: str) -> TableSpec:
    try:
        return SPECS[table]
    except KeyError:
        raise ConversionError(
            f"{table!r} is not a partitioned table here; choose one of {', '.join(SPECS)}"
        ) from None


@contextmanager
def exclusive(url: str, table: str) -> Iterator[None]:
    """One convert, rollback or finalize of `table` at a time per database: a second one is
    refused at once with a clear error instead of racing the first through its phases."""
    with advisory.holding(url, f"advisoros_db.partitions.convert.{table}") as got:
        if not got:
            raise ConversionError(
                f"another `partitions convert/rollback/finalize {table}` is running on this "
                "database; wait for it to finish, then run this again (it resumes where it stopped)"
            )
        yield


def connect(url: str) -> psycopg.Connection[Any]:
    return pooler.connect(url, autocommit=True)


def state(conn: psycopg.Connection[Any], table: str) -> State | None:
    ddl.ensure_state(conn)
    row = conn.execute(
        "SELECT phase, last_id, rows_copied, verification FROM partitioning.conversions"
        " WHERE table_name = %s",
        (table,),
    ).fetchone()
    return None if row is None else State(table, row[0], row[1], row[2], row[3])


def _set_phase(conn: psycopg.Connection[Any], table: str, phase: str, **extra: Any) -> None:
    ddl.set_phase(conn, table, phase)
    if "verification" in extra:
        conn.execute(
            "UPDATE partitioning.conversions SET verification = %s WHERE table_name = %s",
            (json.dumps(extra["verification"]), table),
        )


def _require(current: State | None, table: str, allowed: tuple[str | None, ...], step: str) -> None:
    phase = None if current is None else current.phase
    if phase not in allowed:
        raise ConversionError(
            f"cannot {step} {table}: the conversion is at phase {phase or 'not started'}; "
            f"{step} runs after {', '.join(p or 'nothing' for p in allowed)}. "
            f"See `advisoros-db partitions convert {table}`"
        )


def prepare(
    conn: psycopg.Connection[Any], spec: TableSpec, *, policy: LockPolicy = DEFAULT_POLICY
) -> None:
    """Build the partitioned twin, then mirror the live table's writes into it."""
    current = state(conn, spec.table)
    _require(current, spec.table, (None, "prepared"), "prepare")
    if ddl.is_partitioned(conn, spec.table):
        raise ConversionError(f"{spec.table} is already partitioned; nothing to convert")

    def build(c: psycopg.Connection[Any]) -> None:
        # One transaction: a retry after a lock timeout starts from nothing.
        ddl.install_functions(c)
        ddl.build_partitioned(c, spec)
        _set_phase(c, spec.table, "prepared")

    in_short_transaction(conn, build, policy=policy, what=f"build {spec.partitioned_name}")
    pk = ddl.primary_key(conn, spec.table)[0]

    def mirror(c: psycopg.Connection[Any]) -> None:
        ddl.start_mirror(c, spec.table, spec.partitioned_name, pk)
        _set_phase(c, spec.table, "syncing")

    in_short_transaction(conn, mirror, policy=policy, what=f"start mirroring {spec.table}")


def backfill(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    pause_s: float = 0.0,
) -> int:
    """Copy existing rows in keyset batches, each its own short transaction that also records the
    position, so a killed run resumes where it stopped. Returns rows copied by this call."""
    current = state(conn, spec.table)
    _require(current, spec.table, ("syncing",), "backfill")
    assert current is not None
    pk = ddl.primary_key(conn, spec.table)[0]
    estimate = _estimate(conn, spec.table)
    last, total, copied = current.last_id, current.rows_copied, 0
    while True:
        after = (
            sql.SQL("true")
            if last is None
            else sql.SQL("{pk} > {last}").format(pk=sql.Identifier(pk), last=sql.Literal(last))
        )
        query = sql.SQL(_BATCH).format(
            source=sql.Identifier(spec.table),
            target=sql.Identifier(spec.partitioned_name),
            pk=sql.Identifier(pk),
            size=sql.Literal(batch_size),
            after=after,
        )
        with conn.transaction():
            # Mirrored rows skip the twin's own triggers (timestamps) exactly as the mirror does.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SET LOCAL lock_timeout = '5s'")
            row = conn.execute(query).fetchone()
            assert row is not None
            batch_last, count = row
            if count == 0:
                break
            last, total, copied = batch_last, total + count, copied + count
            conn.execute(
                "UPDATE partitioning.conversions SET last_id = %s, rows_copied = %s,"
                " updated_at = now() WHERE table_name = %s",
                (last, total, spec.table),
            )
        if progress is not None:
            progress(total, max(estimate, total))
        if pause_s:
            time.sleep(pause_s)
    _set_phase(conn, spec.table, "backfilled")
    return copied


def _estimate(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %s::regclass", (table,)
    ).fetchone()
    return int(row[0]) if row else 0


def verify(conn: psycopg.Connection[Any], spec: TableSpec) -> Verification:
    """Compare the live table with its twin; records the result. Raises on a mismatch."""
    current = state(conn, spec.table)
    _require(current, spec.table, ("backfilled", "verified", "rolled_back"), "verify")
    live, twin = (spec.table, spec.partitioned_name)
    pk = ddl.primary_key(conn, live)[0]
    result = compare(conn, live, twin, key=spec.key, pk=pk)
    record = {
        "ok": result.ok,
        "rows": result.rows,
        "partitions": [
            {
                "partition": p.partition,
                "rows": p.rows_source,
                "ok": p.ok,
                "differing_ranges": p.differing_ranges,
            }
            for p in result.partitions
        ],
    }
    if not result.ok:
        _set_phase(
            conn, spec.table, current.phase if current else "backfilled", verification=record
        )
        raise ConversionError(
            result.summary() + "\nNothing was swapped. Find what wrote around the mirror trigger, "
            f"then `advisoros-db partitions convert {spec.table} --repair` re-copies those ranges."
        )
    _set_phase(conn, spec.table, "verified", verification=record)
    return result


@dataclass(frozen=True)
class SwapResult:
    table: str
    lock_ms: float
    foreign_keys_validated: list[tuple[str, str]]


def swap(
    conn: psycopg.Connection[Any], spec: TableSpec, *, policy: LockPolicy = DEFAULT_POLICY
) -> SwapResult:
    """Put the verified twin in place in one short transaction (fixed lock order, lock_timeout with
    retry); the plain table stays as `<table>_old`, mirrored in reverse, until `finalize`."""
    return _exchange(
        conn, spec, policy, exchange=ddl.swap, phases=("verified", "swapped"), verb="swap"
    )


def rollback(
    conn: psycopg.Connection[Any], spec: TableSpec, *, policy: LockPolicy = DEFAULT_POLICY
) -> SwapResult:
    """A second swap: the plain table (kept in sync since the swap) is live again."""
    return _exchange(
        conn,
        spec,
        policy,
        exchange=ddl.unswap,
        phases=("swapped", "rolled_back"),
        verb="roll back",
    )


def _exchange(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    policy: LockPolicy,
    *,
    exchange: Callable[[psycopg.Connection[Any], TableSpec], list[tuple[str, str]]],
    phases: tuple[str, str],
    verb: str,
) -> SwapResult:
    before, after = phases
    _require(state(conn, spec.table), spec.table, (before,), verb)
    started = time.perf_counter()

    def step(c: psycopg.Connection[Any]) -> list[tuple[str, str]]:
        pending = exchange(c, spec)
        _set_phase(c, spec.table, after)
        return pending

    pending = in_short_transaction(conn, step, policy=policy, what=f"{verb} {spec.table}")
    lock_ms = (time.perf_counter() - started) * 1000
    # Validation scans the referencing tables without blocking their writes.
    ddl.validate(conn, pending)
    return SwapResult(spec.table, lock_ms, pending)


def finalize(
    conn: psycopg.Connection[Any], spec: TableSpec, *, policy: LockPolicy = DEFAULT_POLICY
) -> None:
    """End the rollback window: drop the plain table and its reverse mirror."""
    _require(state(conn, spec.table), spec.table, ("swapped",), "finalize")

    def drop(c: psycopg.Connection[Any]) -> None:
        ddl.drop_old(c, spec)
        _set_phase(c, spec.table, "finalized")

    in_short_transaction(conn, drop, policy=policy, what=f"finalize {spec.table}")


_REPAIR: LiteralString = """
WITH locked AS (SELECT {pk} FROM {source} WHERE {cond} AND {pk} BETWEEN {lo} AND {hi} FOR SHARE),
gone AS (DELETE FROM {part} WHERE {pk} BETWEEN {lo} AND {hi})
SELECT count(*) FROM locked
"""


def repair(conn: psycopg.Connection[Any], spec: TableSpec) -> int:
    """Re-copy the id ranges the last verification found different, each range in one transaction
    with its source rows locked; returns the rows re-copied. Verify again afterwards."""
    current = state(conn, spec.table)
    _require(current, spec.table, ("backfilled", "verified", "rolled_back"), "repair")
    assert current is not None
    found = (current.verification or {}).get("partitions", [])
    pk = ddl.primary_key(conn, spec.table)[0]
    conditions = dict(partition_conditions(conn, spec.partitioned_name, spec.key))
    registry = (
        sql.SQL(", ").join(sql.Identifier(c.name) for c in ddl.registry_columns(conn, spec))
        if spec.key_registry and ddl.exists(conn, spec.registry)
        else None
    )
    copied = 0
    for entry in found:
        for lo, hi, _ in entry["differing_ranges"]:
            names = {
                "pk": sql.Identifier(pk),
                "source": sql.Identifier(spec.table),
                "part": sql.Identifier(entry["partition"]),
                "cond": conditions[entry["partition"]],
                "lo": sql.Literal(lo),
                "hi": sql.Literal(hi),
            }
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(sql.SQL(_REPAIR).format(**names))
                copied += conn.execute(
                    sql.SQL(
                        "INSERT INTO {part} SELECT * FROM {source}"
                        " WHERE {cond} AND {pk} BETWEEN {lo} AND {hi}"
                    ).format(**names)
                ).rowcount
                if registry:
                    # Statement-level registry triggers (revision 0017) do not fire for a write
                    # addressed to a partition: register the re-copied ids here.
                    conn.execute(
                        sql.SQL(
                            "INSERT INTO {reg} ({cols}) SELECT {cols} FROM {part}"
                            " WHERE {pk} BETWEEN {lo} AND {hi} ON CONFLICT DO NOTHING"
                        ).format(reg=sql.Identifier(spec.registry), cols=registry, **names)
                    )
    _set_phase(conn, spec.table, "backfilled")
    return copied


def run(
    conn: psycopg.Connection[Any],
    spec: TableSpec,
    *,
    batch_size: int = 5000,
    progress: Progress | None = None,
    policy: LockPolicy = DEFAULT_POLICY,
    pause_s: float = 0.0,
) -> SwapResult | None:
    """Run (or resume) every step up to and including the swap. Returns None if already swapped."""
    current = state(conn, spec.table)
    phase = None if current is None else current.phase
    if phase in ("swapped", "finalized"):
        return None
    if phase in (None, "prepared"):
        prepare(conn, spec, policy=policy)
        phase = "syncing"
    if phase == "syncing":
        backfill(conn, spec, batch_size=batch_size, progress=progress, pause_s=pause_s)
    verify(conn, spec)
    return swap(conn, spec, policy=policy)


__all__ = [
    "PHASES",
    "ConversionError",
    "State",
    "SwapResult",
    "backfill",
    "exclusive",
    "finalize",
    "prepare",
    "repair",
    "rollback",
    "run",
    "spec_for",
    "state",
    "swap",
    "verify",
]
