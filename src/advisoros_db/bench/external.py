"""Cases other areas contribute: `bench/partition_cases.py`, `search_cases.py`, `router_cases.py`.

Each such module exposes `CASES`, a mapping of name to a function that takes some of `admin_url`,
`app_url`, `replica_urls`, `target` and `scale` (rows) as keyword arguments and returns a dict of
figures; a module without `CASES` has its functions named in `FUNCTIONS` below.
"""

from __future__ import annotations

import importlib
import inspect
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from advisoros_db.targets import Target

MODULES = ("partition_cases", "search_cases", "router_cases")
FUNCTIONS = {"router_cases": ("routing_overhead", "read_throughput")}
# What `scale` means differs per area: table rows for partitioning, embedded chunks for search.
ROWS = {
    "partition_cases": {"tiny": 2_000, "small": 20_000, "medium": 100_000, "large": 200_000},
    "search_cases": {"tiny": 1_000, "small": 5_000, "medium": 20_000, "large": 100_000},
}
# Shorter runs at tiny scale, where the point is that every case works, not its figures.
QUICK = {"queries": 200, "rounds": 2, "seconds": 0.5}


@dataclass
class ExternalResult:
    module: str
    name: str
    figures: dict[str, Any] | None = None
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "name": self.name,
            "figures": self.figures,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def available() -> dict[str, Mapping[str, Callable[..., dict[str, Any]]] | None]:
    """Each known module's CASES, or None when that area has not contributed it yet."""
    found: dict[str, Mapping[str, Callable[..., dict[str, Any]]] | None] = {}
    for name in MODULES:
        try:
            module = importlib.import_module(f"advisoros_db.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"advisoros_db.bench.{name}":
                raise
            found[name] = None
            continue
        cases = getattr(module, "CASES", None)
        if cases is None and name in FUNCTIONS:
            cases = {f: getattr(module, f) for f in FUNCTIONS[name] if hasattr(module, f)}
        found[name] = cases
    return found


def names() -> list[str]:
    """Every contributed case as the report names it: `<module>.<case>`."""
    return [f"{module}.{name}" for module, cases in available().items() for name in cases or {}]


def run(
    scale: str,
    *,
    admin_url: str,
    app_url: str,
    replica_urls: list[str],
    wanted: Callable[[str], bool] | None = None,
) -> tuple[list[ExternalResult], list[str]]:
    """Run every contributed case (or those `wanted` accepts by `<module>.<case>`, a partial run,
    which reports no missing module); returns the results and the modules that are missing."""
    base: dict[str, Any] = {
        "admin_url": admin_url,
        "app_url": app_url,
        "replica_urls": replica_urls,
        "target": Target(admin_url=admin_url, app_url=app_url, replica_urls=replica_urls),
    }
    if scale == "tiny":
        base.update(QUICK)
    results: list[ExternalResult] = []
    missing: list[str] = []
    for module, cases in available().items():
        if cases is None:
            if wanted is None:
                missing.append(module)
            continue
        rows = ROWS.get(module, ROWS["partition_cases"])
        offered = {**base, "scale": rows.get(scale, rows["large"])}
        for name, func in cases.items():
            if wanted is not None and not wanted(f"{module}.{name}"):
                continue
            params = inspect.signature(func).parameters
            kwargs = {k: v for k, v in offered.items() if k in params}
            result = ExternalResult(module, name)
            started = time.perf_counter()
            try:
                result.figures = func(**kwargs)
            except Exception as exc:  # one area's failing case must not hide the others' figures
                result.error = f"{type(exc).__name__}: {exc}"
                result.figures = {"traceback": traceback.format_exc(limit=3)}
            result.seconds = time.perf_counter() - started
            results.append(result)
    return results, missing
