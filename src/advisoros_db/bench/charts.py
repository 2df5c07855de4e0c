"""PNG charts comparing naive and optimized: latency per case (log scale) and speed-up ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never a display

import matplotlib.pyplot as plt


def _timed(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in data["cases"] if c["optimized"] and c["naive"] and not c["skipped"]]


def latency(data: dict[str, Any], path: Path, group: str | None = None) -> Path | None:
    cases = [c for c in _timed(data) if group is None or c["group"] == group]
    if not cases:
        return None
    names = [c["name"] for c in cases]
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.28 * len(names) + 1.5)))
    y = range(len(names))
    ax.barh([i + 0.2 for i in y], [c["naive"]["p95_ms"] for c in cases], 0.4, label="naive p95")
    ax.barh(
        [i - 0.2 for i in y], [c["optimized"]["p95_ms"] for c in cases], 0.4, label="optimized p95"
    )
    ax.set_yticks(list(y), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)")
    ax.set_title(f"p95 latency, scale {data['scale']}" + (f" — {group}" if group else ""))
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def ratios(data: dict[str, Any], path: Path) -> Path | None:
    cases = [c for c in _timed(data) if c["ratio_p50"]]
    if not cases:
        return None
    cases.sort(key=lambda c: c["ratio_p50"])
    fig, ax = plt.subplots(figsize=(10, max(3.0, 0.28 * len(cases) + 1.5)))
    ax.barh([c["name"] for c in cases], [c["ratio_p50"] for c in cases], color="tab:green")
    ax.axvline(1.0, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("naive p50 ÷ optimized p50 (log scale; > 1 means optimized is faster)")
    ax.set_title(f"Speed-up over the naive baseline, scale {data['scale']}")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw(data: dict[str, Any], out: Path) -> list[Path]:
    made = [
        ratios(data, out / "ratios.png"),
        latency(data, out / "latency_hot_path.png", "hot path"),
        latency(data, out / "latency_all.png"),
    ]
    return [p for p in made if p is not None]
