"""Router benchmark cases: routing overhead against a direct psycopg pool, read throughput by replicas.

Each case takes a Target and returns a dict of measured figures (no timing goals asserted here).
"""

from __future__ import annotations

import statistics
import threading
import time
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
    target: Target, *, queries: int = 200, rounds: int = 30, query: LiteralString = DEFAULT_QUERY
) -> dict[str, Any]:
    """Per-query latency of routed reads versus a pooled psycopg connection, same query.

    Four sides: a direct `psycopg_pool` connection, the routed connection
    (`router.connection("read")`, the fast path), a plain SQLAlchemy Session and the routed
    session, so the report separates what the ORM costs from what routing adds. All hit the same
    replica (the router is given only that one) in rounds of `queries` each; the order of the
    sides rotates every round so drift on a shared machine hits every side alike. Figures are
    medians of the rounds' mean microseconds per query; the paired figures compare each round's
    sides with each other. Many short rounds cancel drift better than a few long ones.

    Each pair shares its server connection: the direct side uses the router's own pool for the
    replica (`pool.connection()`, plain psycopg_pool), the plain Session the router's engine for
    it. Two connections to the same server can differ by tens of percent per transaction for the
    whole run (where the scheduler keeps each backend process, on a small VM), which would swamp
    a few microseconds of routing. A fifth side, a separate pool of its own, measures that spread
    (`separate_pool_spread_paired_pct`) instead of hiding it.
    """
    nodes = nodes_for_target(target)
    replica = next((n for n in nodes if n.role.value == "read"), nodes[0])
    routed_nodes = (nodes[0], replica) if replica is not nodes[0] else (nodes[0],)
    statement = text(query)
    with (
        ConnectionPool(replica.url, min_size=1, max_size=1, open=True) as own_pool,
        Router(routed_nodes, _QUIET, monitor=False) as router,
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
        }
        timings: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(min(queries, 50)):  # warm the pools and the server's caches
            for once in sides.values():
                once()
        order = list(sides)
        for turn in range(rounds):
            for name in order[turn % len(order) :] + order[: turn % len(order)]:
                once = sides[name]
                started = time.perf_counter()
                for _ in range(queries):
                    once()
                timings[name].append((time.perf_counter() - started) / queries * 1e6)
        served_by = router.core.metrics.counts().get("advisoros_router_queries", {})
        shared = pool.get_stats().get("pool_size")
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
        # Each round's connection time against the same round's direct time, run back to back:
        # robust to load that changes between rounds on a shared machine.
        "connection_overhead_paired_pct": round(
            paired(timings["connection"], timings["direct"]), 1
        ),
        "session_overhead_paired_pct": round(paired(timings["routed"], timings["direct"]), 1),
        "routing_over_sqlalchemy_paired_pct": round(paired(timings["routed"], timings["orm"]), 1),
        "connection_rounds_us": [round(t, 1) for t in timings["connection"]],
        "direct_rounds_us": [round(t, 1) for t in timings["direct"]],
        "sqlalchemy_session_us": round(orm, 1),
        "routed_session_us": round(routed, 1),
        "overhead_pct": round((routed - direct) / direct * 100, 1),
        "routing_over_sqlalchemy_pct": round((routed - orm) / orm * 100, 1),
        "direct_separate_pool_us": round(separate, 1),
        "separate_pool_spread_paired_pct": round(paired(timings["separate"], timings["direct"]), 1),
        "shared_pool_connections": shared,
        "routed_counts": served_by,
    }


def paired(sides: list[float], baseline: list[float]) -> float:
    """Median over rounds of one side's extra time against the baseline's, in percent."""
    return statistics.median((a - b) / b * 100 for a, b in zip(sides, baseline, strict=True))


def read_throughput(
    target: Target,
    *,
    seconds: float = 3.0,
    threads: int = 4,
    replica_counts: tuple[int, ...] = (0, 1, 2),
    query: LiteralString = DEFAULT_QUERY,
) -> dict[str, Any]:
    """Read sessions per second from `threads` threads with 0, 1 and 2 replicas in the router.

    With 0 replicas every read runs on the primary. Counts beyond the replicas available are
    skipped and listed under `skipped`.
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
        with Router((primary, *replicas[:count]), options, monitor=False) as router:
            reads, elapsed = _read_for(router, statement, threads=threads, seconds=seconds)
            per_node = router.core.metrics.counts().get("advisoros_router_queries", {})
        results.append(
            {
                "replicas": count,
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
