"""Benchmarks: optimized schema versus a naive baseline, side by side in one run."""

from advisoros_db.extras import require

require("bench")  # before its dependencies are imported: a missing extra names itself

from advisoros_db.bench.cases import Budget, CaseResult  # noqa: E402
from advisoros_db.bench.report import write  # noqa: E402
from advisoros_db.bench.runner import BenchReport, run  # noqa: E402

__all__ = ["BenchReport", "Budget", "CaseResult", "run", "write"]
