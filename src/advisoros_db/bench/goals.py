"""The issue's performance goals, judged on measured figures only."""

from __future__ import annotations

from typing import Any

from advisoros_db.bench.cases import CaseResult

HOT_PATH_P95_MS = 5.0
HOT_PATH_RATIO = 50.0
MONTH_RATIO = 10.0
ARCHIVE_RATIO = 100.0


def _check(case: CaseResult, met: bool, detail: str) -> dict[str, Any]:
    return {"case": case.name, "met": met, "detail": detail}


def evaluate(cases: list[CaseResult]) -> dict[str, Any]:
    """Each goal with every case it covers: met or not, and the figures that decided it."""
    hot, month, archive = [], [], []
    for c in cases:
        if c.skipped or c.optimized is None:
            continue
        r50 = c.ratio_p50
        if c.hot_path:
            p95 = c.optimized.p95
            met = p95 <= HOT_PATH_P95_MS and r50 is not None and r50 >= HOT_PATH_RATIO
            hot.append(_check(c, met, f"p95 {p95:.2f} ms, {r50 or 0:.1f}x faster than naive"))
        elif c.name.startswith("audit.month"):
            met = r50 is not None and r50 >= MONTH_RATIO
            month.append(_check(c, met, f"{r50 or 0:.1f}x faster than naive"))
        elif c.group == "archival":
            met = r50 is not None and r50 >= ARCHIVE_RATIO
            archive.append(_check(c, met, f"detach {r50 or 0:.0f}x faster than DELETE"))
    return {
        "hot_path": {
            "goal": f"p95 <= {HOT_PATH_P95_MS:g} ms and >= {HOT_PATH_RATIO:g}x faster than naive",
            "cases": hot,
        },
        "audit_month": {"goal": f">= {MONTH_RATIO:g}x faster than naive", "cases": month},
        "archival": {"goal": f"detach >= {ARCHIVE_RATIO:g}x faster than DELETE", "cases": archive},
    }
