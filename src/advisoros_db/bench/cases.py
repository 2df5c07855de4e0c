"""Benchmark cases: a query run side by side on the optimized and naive schemas, or a custom pair.

A case never asserts speed; it measures both sides on the same data and reports what it saw.
Tenant queries are measured as the application sees them: as the application role, inside a
tenant transaction (`tenancy.tenant_transaction`) for the organization the case samples, so
row-level security is in the measured path on both sides. The owner's figures, without it, are a
second column.
"""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from advisoros_db.bench import plans
from advisoros_db.bench.stats import Timing, ratio
from advisoros_db.tenancy import owner_maintenance, tenant_transaction

Conn = psycopg.Connection[Any]
SLOW_SECONDS = 0.5
SLOW_REPS = 3


@dataclass(frozen=True)
class Budget:
    """How hard to measure: warm-up runs, then repetitions until `seconds` or `max_reps`."""

    warmup: int = 3
    min_reps: int = 5
    max_reps: int = 200
    seconds: float = 2.0
    write_reps: int = 3

    def owner(self) -> Budget:
        """Half the time for the owner's column: it explains a difference, it decides no goal."""
        return Budget(
            warmup=self.warmup,
            min_reps=self.min_reps,
            max_reps=max(self.min_reps, self.max_reps // 2),
            seconds=self.seconds / 2,
            write_reps=self.write_reps,
        )

    @classmethod
    def for_scale(cls, scale: str) -> Budget:
        if scale == "tiny":
            return cls(warmup=1, min_reps=3, max_reps=10, seconds=0.05, write_reps=1)
        if scale == "small":
            return cls(warmup=2, min_reps=5, max_reps=100, seconds=0.5, write_reps=2)
        return cls()


@dataclass
class Sides:
    """The connections of both sides: `naive` ones resolve table names in schema `naive` first.

    `optimized` and `naive` log in as the application role; a tenant case runs on them inside a
    tenant transaction for `organization_id`. `owner_*` log in as the schema owner, which
    row-level security does not bind: maintenance (DDL, staging), system queries that read every
    tenant, and the second column.
    """

    optimized: psycopg.Connection[Any]
    naive: psycopg.Connection[Any]
    organization_id: uuid.UUID | str
    owner_optimized: psycopg.Connection[Any]
    owner_naive: psycopg.Connection[Any]


SESSION_SQL = "SELECT current_user::text, current_setting('app.organization_id', true)"


def session_facts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Who runs the measured statements and for which tenant, read inside the measurement."""
    row = conn.execute(SESSION_SQL).fetchone()
    return {"role": row[0], "tenant": row[1]} if row else {}


@contextmanager
def scoped(
    conn: psycopg.Connection[Any], organization_id: uuid.UUID | str | None
) -> Iterator[None]:
    """A tenant transaction for `organization_id`; with None, the connection as it is."""
    if organization_id is None:
        yield
        return
    with tenant_transaction(conn, organization_id):
        yield


# The SECURITY DEFINER search functions (revisions 0021, 0022) read the tenant setting.
_TENANT_FUNCTION = "search_tenant_"


@dataclass
class CaseResult:
    name: str
    group: str
    description: str
    optimized: Timing | None = None
    naive: Timing | None = None
    hot_path: bool = False
    notes: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None
    role: str = "application"
    """Who ran `optimized` and `naive`: the application role in a tenant transaction, or the owner
    (maintenance and system queries, which production runs as a privileged role too)."""
    owner_optimized: Timing | None = None
    owner_naive: Timing | None = None

    @property
    def ratio_p50(self) -> float | None:
        if self.optimized is None or self.naive is None:
            return None
        return ratio(self.naive.p50, self.optimized.p50)

    @property
    def ratio_p95(self) -> float | None:
        if self.optimized is None or self.naive is None:
            return None
        return ratio(self.naive.p95, self.optimized.p95)

    def as_dict(self) -> dict[str, Any]:
        r50, r95 = self.ratio_p50, self.ratio_p95
        return {
            "name": self.name,
            "group": self.group,
            "description": self.description,
            "hot_path": self.hot_path,
            "optimized": self.optimized.as_dict() if self.optimized else None,
            "naive": self.naive.as_dict() if self.naive else None,
            "ratio_p50": round(r50, 2) if r50 is not None else None,
            "ratio_p95": round(r95, 2) if r95 is not None else None,
            "notes": self.notes,
            "skipped": self.skipped,
            "role": self.role,
            "owner": self._owner(),
        }

    def _owner(self) -> dict[str, Any] | None:
        if self.owner_optimized is None or self.owner_naive is None:
            return None
        r50 = ratio(self.owner_naive.p50, self.owner_optimized.p50)
        return {
            "optimized": self.owner_optimized.as_dict(),
            "naive": self.owner_naive.as_dict(),
            "ratio_p50": round(r50, 2) if r50 is not None else None,
        }


@dataclass(frozen=True)
class QueryCase:
    """The same SQL on both sides; table names resolve through each side's search_path."""

    name: str
    group: str
    description: str
    sql: str
    params: Mapping[str, Any]
    index: str | None = None
    hot_path: bool = False
    naive_sql: str | None = None
    """What the naive side runs instead of `sql`, when `sql` calls a function of the optimized
    schema (a search page: catalog_cases.plain_sql)."""
    prepare: bool | None = None
    """False for catalog queries marked `custom_plan`: both sides run them unprepared."""

    system: bool = False
    """A worker query that reads every tenant: run as the owner, as production runs it."""
    analyze: bool = False
    """Also record EXPLAIN (ANALYZE, BUFFERS) of the optimized side: where its time goes."""

    def run(self, sides: Sides, budget: Budget) -> CaseResult:
        result = CaseResult(self.name, self.group, self.description, hot_path=self.hot_path)
        pairs: list[tuple[str, Conn, Conn, uuid.UUID | str | None, Budget]]
        if self.system:
            result.role = "owner"
            pairs = [("", sides.owner_optimized, sides.owner_naive, None, budget)]
        else:
            # A search page's function takes the tenant from the transaction, whoever calls it:
            # the owner's column runs in the same tenant (its own queries filter by it anyway).
            owner_tenant = sides.organization_id if _TENANT_FUNCTION in self.sql else None
            if owner_tenant is not None:
                owner_maintenance(sides.owner_optimized)
                owner_maintenance(sides.owner_naive)
            pairs = [
                ("", sides.optimized, sides.naive, sides.organization_id, budget),
                ("owner_", sides.owner_optimized, sides.owner_naive, owner_tenant, budget.owner()),
            ]
        for prefix, optimized, naive, tenant, spend in pairs:
            for side, conn in (("optimized", optimized), ("naive", naive)):
                query = self.naive_sql if side == "naive" and self.naive_sql else self.sql
                with scoped(conn, tenant):
                    if tenant is not None and not prefix:  # the application role's session
                        result.notes.setdefault("session", {})[side] = session_facts(conn)
                    timing = time_query(conn, query, self.params, spend, prepare=self.prepare)
                    result.notes[f"{prefix}{side}_plan"] = plans.summary(conn, query, self.params)
                    if self.analyze and side == "optimized" and not prefix:
                        result.notes["analyze"] = plans.analyze(conn, query, self.params)
                setattr(result, f"{prefix}{side}", timing)
        if self.prepare is False:
            result.notes["executed"] = "unprepared (custom plan every execution)"
        if self.index is not None:
            result.notes["expected_index"] = self.index
            result.notes["uses_expected_index"] = self.index in result.notes["optimized_plan"].get(
                "indexes", []
            )
        if result.optimized and result.naive and result.optimized.rows != result.naive.rows:
            result.notes["row_mismatch"] = True  # the sides should agree on identical data
        return result


@dataclass(frozen=True)
class CustomCase:
    """A case that measures both sides itself (writes, archival, another engineer's case)."""

    name: str
    group: str
    description: str
    measure: Callable[[Sides, Budget], CaseResult]

    def run(self, sides: Sides, budget: Budget) -> CaseResult:
        return self.measure(sides, budget)


Case = QueryCase | CustomCase


@contextmanager
def paused_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while timing, as `timeit` does.

    A full collection walks every object the process holds (tens of ms here) and lands in
    whichever execution allocated past the threshold: a query returning thousands of rows had one
    run in about twenty take 40 ms instead of 5, which is the client, not the query.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def time_query(
    conn: psycopg.Connection[Any],
    query: str,
    params: Mapping[str, Any],
    budget: Budget,
    *,
    prepare: bool | None = None,
) -> Timing:
    """Warm up, then time full executions (rows fetched) until the budget is spent.

    `prepare` as psycopg takes it: None prepares server-side after five executions, as an
    application's connection does; False never (every execution planned with its values)."""
    timing = Timing()
    min_reps = budget.min_reps
    with conn.cursor() as cur, paused_gc():
        for _ in range(budget.warmup):
            start = time.perf_counter()
            cur.execute(query, params, prepare=prepare)
            cur.fetchall()
            if time.perf_counter() - start > SLOW_SECONDS:
                # A query this slow has warmed the cache in one run; fewer repetitions keep the
                # whole benchmark within minutes and still give a stable median.
                min_reps = min(min_reps, SLOW_REPS)
                break
        spent = 0.0
        while len(timing.samples_ms) < budget.max_reps and (
            len(timing.samples_ms) < min_reps or spent < budget.seconds
        ):
            start = time.perf_counter()
            cur.execute(query, params, prepare=prepare)
            rows = cur.fetchall()
            elapsed = time.perf_counter() - start
            spent += elapsed
            timing.samples_ms.append(elapsed * 1000)
            timing.rows = len(rows)
    return timing


def time_rolled_back(
    conn: psycopg.Connection[Any],
    statement: Callable[[psycopg.Connection[Any]], int],
    reps: int,
    *,
    organization_id: uuid.UUID | str | None = None,
) -> Timing:
    """Time a write `reps` times, each rolled back so the data stays as it was.

    With `organization_id`, each run is a savepoint inside a tenant transaction (the tenant's
    policies check every row written); otherwise a transaction of its own."""
    timing = Timing()
    with paused_gc():
        for _ in range(reps):
            with scoped(conn, organization_id), conn.transaction(force_rollback=True):
                start = time.perf_counter()
                work = statement(conn)
                timing.samples_ms.append((time.perf_counter() - start) * 1000)
                timing.work = work
    return timing
