"""Router benchmark cases: routing overhead against a direct psycopg pool, read throughput by replicas.

Each case takes a Target and returns a dict of measured figures (no timing goals asserted here).
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, LiteralString

from psycopg_pool import ConnectionPool
from sqlalchemy import text
from sqlalchemy.orm import Session

from advisoros_db.routing import Router, RouterOptions, nodes_for_target
from advisoros_db.targets import Target

# A small catalog read every database has, so the cases need no schema or data.
DEFAULT_QUERY: LiteralString = (
    "SELECT count(*) FROM pg_catalog.pg_class WHERE relkind = 'r' AND relnamespace = 11"
)

_QUIET = RouterOptions(interval_s=30.0, pool_size=4)


def routing_overhead(
    target: Target, *, queries: int = 1000, rounds: int = 5, query: LiteralString = DEFAULT_QUERY
) -> dict[str, Any]:
    """Per-query latency of routed reads versus a pooled psycopg connection, same query.

    Five sides, each a single-query read transaction: a direct `psycopg_pool` connection, the
    routed connection (`router.connection("read")`, the fast path), a plain SQLAlchemy Session,
    the routed session, and a second direct pool with a connection of its own. All hit the same
    replica (the router is given only that one). Each iteration runs every side once, back to
    back, in a random order per iteration, and times each transaction on its own; `rounds`
    blocks of `queries` iterations. Figures are medians of single transactions; the paired
    figures are the median of each iteration's difference against the direct side of the same
    iteration, over the direct side's median. Adjacent transactions share whatever the machine
    was doing at that moment, so drift, a scheduler hiccup or a GC pause cancels out instead of
    landing on one side's round (round means of 100 transactions swung by +-15 % on this VM).

    Each compared pair shares its server connection: the direct side uses the router's own pool
    for the replica (`pool.connection()`, plain psycopg_pool), the plain Session the router's
    engine for it. Two connections to the same server can differ by tens of percent per
    transaction for a whole run (where the scheduler keeps each backend process, on a small VM),
    which would swamp a few microseconds of routing. The fifth side, a separate pool, measures
    that spread (`separate_pool_spread_paired_pct`) instead of hiding it.
    """
    nodes = nodes_for_target(target)
    replica = next((n for n in nodes if n.role.value == "read"), nodes[0])
    routed_nodes = (nodes[0], replica) if replica is not nodes[0] else (nodes[0],)
    statement = text(query)
    with (
        ConnectionPool(replica.url, min_size=1, max_size=1, open=True) as own_pool,
        # Monitored, as in production: its probes keep the replica's freshness proven, so a
        # read needs no in-band check (the `checked` side measures one that always checks).
        Router(routed_nodes, _QUIET, monitor=True) as router,
        Router(routed_nodes, replace(_QUIET, check_every_read=True), monitor=True) as checking,
    ):
        pool = router.pools.get(replica.name)
        # Its first connection made before the first checkout, so the pool does not grow a
        # second one racing it: both psycopg sides then run on one server connection.
        pool.wait()
        engine = router.engines[replica.name]

        def direct_once() -> None:
            with pool.connection() as conn:
                conn.execute(query).fetchall()

        def separate_once() -> None:
            with own_pool.connection() as conn:
                conn.execute(query).fetchall()

        def connection_once() -> None:
            with router.connection("read") as conn:
                conn.execute(query).fetchall()

        checked_pool = checking.pools.get(replica.name)
        checked_pool.wait()

        def checked_direct_once() -> None:
            with checked_pool.connection() as conn:
                conn.execute(query).fetchall()

        def checked_once() -> None:
            with checking.connection("read") as conn:
                conn.execute(query).fetchall()

        def orm_once() -> None:
            with Session(engine) as s:
                s.execute(statement).all()

        def routed_once() -> None:
            with router.session("read") as s:
                s.execute(statement).all()

        sides = {
            "direct": direct_once,
            "connection": connection_once,
            "orm": orm_once,
            "routed": routed_once,
            "separate": separate_once,
            "checked_direct": checked_direct_once,
            "checked": checked_once,
        }
        for _ in range(min(queries, 50)):  # warm the pools and the server's caches
            for once in sides.values():
                once()
        blocks = [_interleaved(sides, queries, offset=r * queries) for r in range(rounds)]
        served_by = router.core.metrics.counts().get("advisoros_router_queries", {})
        shared = pool.get_stats().get("pool_size")
    timings = {name: [t for block in blocks for t in block[name]] for name in sides}
    direct, connection, orm, routed, separate = (
        statistics.median(timings[n]) for n in ("direct", "connection", "orm", "routed", "separate")
    )
    return {
        "case": "routing_overhead",
        "query": query,
        "queries_per_round": queries,
        "rounds": rounds,
        "node": replica.name,
        "direct_psycopg_pool_us": round(direct, 1),
        "routed_connection_us": round(connection, 1),
        "connection_overhead_pct": round((connection - direct) / direct * 100, 1),
        "connection_overhead_paired_pct": round(
            paired(timings["connection"], timings["direct"]), 1
        ),
        # The same in microseconds: what routing adds, whatever the connection's round trip costs.
        "connection_overhead_paired_us": round(
            extra_us(timings["connection"], timings["direct"]), 1
        ),
        # The same paired figure per block of `queries` iterations: how steady it is in one run.
        "connection_rounds_paired_pct": [
            round(paired(b["connection"], b["direct"]), 1) for b in blocks
        ],
        "session_overhead_paired_pct": round(paired(timings["routed"], timings["direct"]), 1),
        "routing_over_sqlalchemy_paired_pct": round(paired(timings["routed"], timings["orm"]), 1),
        "routing_over_sqlalchemy_paired_us": round(extra_us(timings["routed"], timings["orm"]), 1),
        "connection_rounds_us": [round(statistics.median(b["connection"]), 1) for b in blocks],
        "direct_rounds_us": [round(statistics.median(b["direct"]), 1) for b in blocks],
        "sqlalchemy_session_us": round(orm, 1),
        "routed_session_us": round(routed, 1),
        "overhead_pct": round((routed - direct) / direct * 100, 1),
        "routing_over_sqlalchemy_pct": round((routed - orm) / orm * 100, 1),
        "direct_separate_pool_us": round(separate, 1),
        "separate_pool_spread_paired_pct": round(paired(timings["separate"], timings["direct"]), 1),
        "shared_pool_connections": shared,
        # check_every_read=True: the in-band check (replay position, still a standby) in the
        # BEGIN round trip of every read, against a direct pool sharing that router's connection.
        "checked_connection_us": round(statistics.median(timings["checked"]), 1),
        "checked_direct_us": round(statistics.median(timings["checked_direct"]), 1),
        "checked_overhead_paired_pct": round(
            paired(timings["checked"], timings["checked_direct"]), 1
        ),
        "checked_overhead_paired_us": round(
            extra_us(timings["checked"], timings["checked_direct"]), 1
        ),
        "checked_counts": checking.core.metrics.counts().get("advisoros_router_queries", {}),
        "routed_counts": served_by,
    }


def _interleaved(
    sides: dict[str, Callable[[], None]], iterations: int, *, offset: int
) -> dict[str, list[float]]:
    """Microseconds of each side's single transactions, every side once per iteration."""
    names = list(sides)
    timings: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for i in range(offset, offset + iterations):
        order = names.copy()
        # A random order, not a rotation: in a rotation each side always follows the same
        # other side, and whether that one used the same server connection biases its time.
        random.Random(i).shuffle(order)
        for name in order:
            once = sides[name]
            started = clock()
            once()
            timings[name].append((clock() - started) * 1e6)
    return timings


def paired(sides: list[float], baseline: list[float]) -> float:
    """Median of the per-iteration extra time against the baseline, over the baseline's median,
    in percent."""
    return extra_us(sides, baseline) / statistics.median(baseline) * 100


def extra_us(sides: list[float], baseline: list[float]) -> float:
    """Median of the per-iteration differences between one side and the baseline."""
    return statistics.median(a - b for a, b in zip(sides, baseline, strict=True))


def read_throughput(
    target: Target,
    *,
    seconds: float = 3.0,
    threads: int = 4,
    replica_counts: tuple[int, ...] = (0, 1, 2),
    query: LiteralString = DEFAULT_QUERY,
    catch_up_s: float = 60.0,
) -> dict[str, Any]:
    """Read sessions per second from `threads` threads with 0, 1 and 2 replicas in the router.

    With 0 replicas every read runs on the primary. Counts beyond the replicas available are
    skipped and listed under `skipped`. Before each count the router probes until its replicas
    serve reads (up to `catch_up_s`): one probe has no lag history, and a replica still replaying
    a benchmark's writes would send every read to the primary under the replicas' heading.
    """
    nodes = nodes_for_target(target)
    primary, replicas = nodes[0], [n for n in nodes if n.role.value == "read"]
    statement = text(query)
    results: list[dict[str, Any]] = []
    skipped: list[int] = []
    for count in replica_counts:
        if count > len(replicas):
            skipped.append(count)
            continue
        options = RouterOptions(interval_s=30.0, pool_size=threads)
        wanted = {n.name for n in replicas[:count]}
        # Monitored as in production: probes keep proving the replicas within the bound.
        with Router((primary, *replicas[:count]), options, monitor=True) as router:
            usable = _await_usable(router, wanted, timeout_s=catch_up_s)
            reads, elapsed = _read_for(router, statement, threads=threads, seconds=seconds)
            per_node = router.core.metrics.counts().get("advisoros_router_queries", {})
        results.append(
            {
                "replicas": count,
                # Fewer than `replicas` when some stayed stale: their reads went elsewhere.
                "replicas_usable": sorted(usable),
                "reads": reads,
                "seconds": round(elapsed, 2),
                "reads_per_s": round(reads / elapsed, 1),
                "per_node": per_node,
            }
        )
    return {
        "case": "read_throughput",
        "threads": threads,
        "query": query,
        "results": results,
        "skipped": skipped,
    }


def _await_usable(router: Router, names: set[str], *, timeout_s: float) -> set[str]:
    """Probe until every replica in `names` serves reads or `timeout_s` passes; those that do."""
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = router.probe()["nodes"]
        usable = {n["name"] for n in nodes if n["usable_for_reads"]} & names
        if usable == names or time.monotonic() >= deadline:
            return usable
        time.sleep(0.2)


def _read_for(router: Router, statement: Any, *, threads: int, seconds: float) -> tuple[int, float]:
    """Read sessions completed by `threads` threads in `seconds`, and the time really taken."""
    done = [0] * threads
    stop = threading.Event()

    def work(slot: int) -> None:
        while not stop.is_set():
            with router.session("read") as s:
                s.execute(statement).all()
            done[slot] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(done), time.perf_counter() - started
