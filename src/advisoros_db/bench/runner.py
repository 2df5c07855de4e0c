"""`run()`: load (or reuse) a data set, build the naive baseline, measure every case side by side."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from advisoros_db import datagen
from advisoros_db.bench import (
    catalog_cases,
    external,
    index_costs,
    machine,
    naive,
    sampling,
    time_cases,
    write_cases,
)
from advisoros_db.bench.cases import Budget, Case, CaseResult, Sides
from advisoros_db.bench.external import ExternalResult
from advisoros_db.bench.selection import Selection
from advisoros_db.datagen.introspect import tables
from advisoros_db.errors import ConfigError
from advisoros_db.partitioning import convert
from advisoros_db.partitioning.layout import SPECS
from advisoros_db.tenancy import APP_ROLE
from advisoros_db.urls import mask

Notify = Callable[[str], None]


@dataclass
class BenchReport:
    scale: str
    seed: int
    started_at: dt.datetime
    machine: dict[str, object] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    load: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    prepared: list[str] = field(default_factory=list)
    cases: list[CaseResult] = field(default_factory=list)
    external: list[ExternalResult] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    vacuum_seconds: float | None = None
    replicas: dict[str, Any] | None = None
    indexes: dict[str, Any] | None = None
    seconds: float = 0.0
    only: list[str] = field(default_factory=list)
    """The `--only` patterns of a partial run; empty for a full one."""

    def partial(self) -> dict[str, Any] | None:
        if not self.only:
            return None
        measured = [c.name for c in self.cases] + [f"{e.module}.{e.name}" for e in self.external]
        return {"patterns": self.only, "cases": measured}

    def as_dict(self) -> dict[str, Any]:
        from advisoros_db.bench.goals import evaluate

        return {
            "scale": self.scale,
            "seed": self.seed,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 1),
            "machine": self.machine,
            "row_counts": self.row_counts,
            "load": self.load,
            "baseline": self.baseline,
            "prepared": self.prepared,
            "vacuum_seconds": self.vacuum_seconds,
            "replicas_caught_up": self.replicas,
            "goals": evaluate(self.cases),
            "cases": [c.as_dict() for c in self.cases],
            "indexes": self.indexes,
            "external": [e.as_dict() for e in self.external],
            "missing_case_modules": self.missing,
            "partial": self.partial(),
        }


def ensure_data(
    url: str, scale: str, seed: int, notify: Notify, *, reseed: bool = False, **seed_kwargs: Any
) -> dict[str, Any] | None:
    """Reuse the database's data when it is a seed of this scale; else seed it (replacing a seed)."""
    last = datagen.last_run(url)
    if not reseed and last is not None and last["scale"] == scale and last["seed"] == seed:
        notify(f"reusing the {scale} data set seeded {last['anchor']:%Y-%m-%d}")
        return None
    with psycopg.connect(url, autocommit=True) as conn:
        names = tables(conn)
        if "organizations" in names and last is None:
            has = conn.execute("SELECT EXISTS (SELECT 1 FROM organizations)").fetchone()
            if has and has[0]:
                raise ConfigError(
                    "the database holds data that the generator did not make; the benchmark "
                    "replaces its data set, so point it at a database of its own "
                    "(ADVISOROS_DATABASE_URL) or empty this one"
                )
    notify(f"seeding the {scale} data set")
    report = datagen.seed(url, scale, seed=seed, replace=True, **seed_kwargs)
    return report.as_dict()


def require_loaded(url: str, scale: str, seed: int) -> None:
    """A partial run measures the data set already there; it never loads one."""
    last = datagen.last_run(url)
    if last is not None and last["scale"] == scale and last["seed"] == seed:
        return
    found = "none" if last is None else f"scale {last['scale']} with seed {last['seed']}"
    raise ConfigError(
        f"--only re-measures cases on the data set already loaded, and this database holds "
        f"{found}, not scale {scale} with seed {seed}; load it first with a full run "
        f"(`advisoros-db bench --scale {scale} --seed {seed}`) or `advisoros-db seed --scale "
        f"{scale}`, or give the --scale and --seed of the data set that is loaded"
    )


def check_selection(url: str, scale: str, selection: Selection) -> sampling.Sample:
    """Refuse patterns that match no case before anything is finalized, built, vacuumed or
    measured; returns the catalog's sample, drawn for the names (kept: at `large` it takes a
    while)."""
    with psycopg.connect(url, autocommit=True) as conn:
        sample = sampling.sample(conn)
        ours = [c.name for c in collect(conn, scale, sample)]
    selection.check(ours + external.names())
    return sample


def steady_state(url: str) -> list[str]:
    """Close the rollback window of finished partition conversions, so the optimized tables are
    measured as they run after `partitions finalize` (no mirror trigger doubling every write)."""
    done: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for spec in SPECS.values():
            current = convert.state(conn, spec.table)
            if current is not None and current.phase == "swapped":
                convert.finalize(conn, spec)
                done.append(f"finalized the {spec.table} conversion (dropped {spec.old_name})")
    return done


def vacuum(conn: psycopg.Connection[Any]) -> float:
    """VACUUM (ANALYZE) the whole database, both sides; seconds taken.

    What autovacuum does after a bulk load (visibility maps for index-only scans, hint bits,
    statistics), done before the timings instead of during them: on a fresh `large` load its
    workers otherwise run for most of the benchmark and land in the timings of whatever case is
    measured at the time. On a database already vacuumed it has little to do.
    """
    started = time.perf_counter()
    conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - started


def await_replicas(
    admin_url: str, replica_urls: list[str], *, timeout_s: float = 300.0, poll_s: float = 1.0
) -> dict[str, Any]:
    """Wait until every reachable replica has replayed all the primary has written so far.

    A fresh load and the VACUUM after it write gigabytes of WAL; replicas replaying it compete
    with the timings for the same cores and, lagging, take no reads in the router's cases. Returns
    the seconds waited and the replicas still behind at the deadline or not reachable.
    """
    started = time.perf_counter()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        # The insert position: an asynchronous commit is in the WAL before it is written out.
        row = conn.execute("SELECT pg_current_wal_insert_lsn()::text").fetchone()
    written = row[0] if row else None
    waiting, unreachable = list(replica_urls), []
    while waiting and time.perf_counter() - started < timeout_s:
        behind = []
        for url in waiting:
            try:
                with psycopg.connect(url, autocommit=True, connect_timeout=5) as replica:
                    done = replica.execute(
                        "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (written,)
                    ).fetchone()
            except psycopg.OperationalError:
                unreachable.append(mask(url))
                continue
            if not (done and done[0]):
                behind.append(url)
        waiting = behind
        if waiting:
            time.sleep(poll_s)
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "behind": [mask(u) for u in waiting],
        "unreachable": unreachable,
    }


def baseline_marker(last: dict[str, Any] | None, scale: str, seed: int) -> str:
    """What the naive copy mirrors. The load time identifies the data: a reseed rebuilds the
    baseline even when seed, scale and anchor (hence the rows) are the same."""
    return f"seed run {last and last['loaded_at']} {scale} {seed}, {naive.VERSION}"


def row_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in tables(conn):
        row = conn.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("public", name))
        ).fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


def collect(conn: psycopg.Connection[Any], scale: str, sample: sampling.Sample) -> list[Case]:
    found: list[Case] = []
    found.extend(catalog_cases.cases(sample))
    found.extend(time_cases.cases(conn, sample.organization_id))
    found.extend(write_cases.cases(scale))
    return found


def run(
    admin_url: str,
    *,
    scale: str = "tiny",
    seed: int = 42,
    app_url: str | None = None,
    replica_urls: list[str] | None = None,
    budget: Budget | None = None,
    notify: Notify = lambda _: None,
    on_case: Callable[[CaseResult, int, int], None] | None = None,
    reseed: bool = False,
    only: Sequence[str] = (),
    **seed_kwargs: Any,
) -> BenchReport:
    """Measure every case on the database at `admin_url` (the primary, as a role that owns it).

    Tenant cases run on `app_url` (the application role) inside a tenant transaction for the
    organization the catalog samples; the owner's figures are a second column.

    With `only` (shell-style patterns on case names), a partial run: only the matching cases, on
    the data set already loaded (never seeded, `reseed` refused), without the per-index table; a
    pattern that matches no case is refused before anything runs."""
    if app_url is None:
        raise ConfigError(
            "the benchmark measures what the application sees, as the application role "
            f"({APP_ROLE}) under row-level security: give it the role's URL (app_url; the CLI "
            "takes it from the configured or embedded servers, see docs/security.md for creating "
            "the role)"
        )
    selection = Selection.of(only)
    sample: sampling.Sample | None = None
    if selection is not None:
        if reseed or seed_kwargs.get("measure_limit"):
            raise ConfigError(
                "--only re-measures cases on the data set already loaded and loads nothing: "
                "drop --reseed (and --measure-limit), or run the full benchmark to reload"
            )
        require_loaded(admin_url, scale, seed)
        sample = check_selection(admin_url, scale, selection)
    started = time.perf_counter()
    report = BenchReport(scale, seed, dt.datetime.now(dt.UTC), only=list(only))
    report.prepared = steady_state(admin_url)
    for line in report.prepared:
        notify(line)
    if selection is None:
        report.load = ensure_data(admin_url, scale, seed, notify, reseed=reseed, **seed_kwargs)
    budget = budget or Budget.for_scale(scale)
    naive_path = f"-c search_path={naive.NAIVE},public"
    with (
        psycopg.connect(admin_url, autocommit=True) as optimized,
        psycopg.connect(admin_url, autocommit=True, options=naive_path) as baseline,
        psycopg.connect(app_url, autocommit=True) as app_optimized,
        psycopg.connect(app_url, autocommit=True, options=naive_path) as app_baseline,
    ):
        report.machine = machine.facts(optimized)
        if sample is None:
            sample = sampling.sample(optimized)
        chosen = [
            c
            for c in collect(optimized, scale, sample)
            if selection is None or selection.wants(c.name)
        ]
        if chosen:  # none when only other areas' cases are chosen: those bring their own data
            last = datagen.last_run(admin_url)
            marker = baseline_marker(last, scale, seed)
            notify("building the naive baseline (keys only, no partitions)")
            built = naive.ensure(optimized, marker)
            if built is not None:
                report.baseline = {
                    "rows": sum(built.rows.values()),
                    "seconds": round(built.seconds, 2),
                }
            notify("vacuuming both sides (steady state: no autovacuum during the timings)")
            report.vacuum_seconds = round(vacuum(optimized), 2)
        if replica_urls:
            notify("waiting for the replicas to replay the load and the VACUUM")
            report.replicas = await_replicas(admin_url, replica_urls)
        report.row_counts = row_counts(optimized)
        # Sizes before this run's (rolled-back) writes leave dead entries in them.
        indexes = index_costs.inventory(optimized) if selection is None else None
        sides = Sides(app_optimized, app_baseline, sample.organization_id, optimized, baseline)
        for i, case in enumerate(chosen):
            result = case.run(sides, budget)
            report.cases.append(result)
            if on_case is not None:
                on_case(result, i + 1, len(chosen))
        if indexes is not None:
            notify("measuring what each index adds to inserts into its table")
            rows = index_costs.ROWS.get(scale, index_costs.DEFAULT_ROWS)
            inserts, costs = index_costs.write_costs(optimized, indexes, rows, budget.write_reps)
            report.indexes = index_costs.table(indexes, report.cases, inserts, costs)
        report.machine["load_average_end"] = machine.load()
    notify("running the cases other areas contribute")
    report.external, report.missing = external.run(
        scale,
        admin_url=admin_url,
        app_url=app_url,
        replica_urls=replica_urls or [],
        wanted=selection.wants if selection is not None else None,
    )
    report.seconds = time.perf_counter() - started
    return report
