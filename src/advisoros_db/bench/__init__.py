"""Benchmarks: optimized schema versus a naive baseline, side by side in one run."""

from advisoros_db.bench.cases import Budget, CaseResult
from advisoros_db.bench.report import write
from advisoros_db.bench.runner import BenchReport, run

__all__ = ["BenchReport", "Budget", "CaseResult", "run", "write"]
