"""Timings of one side of a case and the figures derived from them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Timing:
    """Wall-clock milliseconds of each repetition (warm-up excluded), and rows each returned."""

    samples_ms: list[float] = field(default_factory=list)
    rows: int | None = None
    work: int | None = None  # rows written per repetition, for throughput cases

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples_ms, q)) if self.samples_ms else float("nan")

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p95(self) -> float:
        return self.percentile(95)

    @property
    def p99(self) -> float:
        return self.percentile(99)

    @property
    def rows_per_second(self) -> float | None:
        if not self.work or not self.samples_ms:
            return None
        return self.work / (self.p50 / 1000.0)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "repetitions": len(self.samples_ms),
            "p50_ms": round(self.p50, 4),
            "p95_ms": round(self.p95, 4),
            "p99_ms": round(self.p99, 4),
            "mean_ms": round(float(np.mean(self.samples_ms)), 4) if self.samples_ms else None,
            "min_ms": round(min(self.samples_ms), 4) if self.samples_ms else None,
            "rows": self.rows,
        }
        if self.work:
            out["rows_written"] = self.work
            out["rows_per_second"] = round(self.rows_per_second or 0.0)
        return out


def ratio(naive: float, optimized: float) -> float | None:
    """How many times slower the naive side is (None when a side has no timing)."""
    if math.isnan(naive) or math.isnan(optimized) or optimized <= 0:
        return None
    return naive / optimized
