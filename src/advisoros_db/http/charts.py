"""Inline SVG bar charts rendered on the server: no script, no chart library to ship."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#3b6ea5", "#d08c2c", "#5a9a5a", "#a04a5a")


@dataclass(frozen=True)
class Bar:
    label: str
    parts: Sequence[float]
    """Stacked segment values, in the order of the chart's legend."""


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def stacked_bars(
    bars: Sequence[Bar], legend: Sequence[str], *, title: str, width: int = 720, row: int = 22
) -> str:
    """Horizontal stacked bars with a label and a total per row; every text is escaped."""
    label_w, total_w, top = 210, 90, 30
    plot_w = width - label_w - total_w
    height = top + row * max(len(bars), 1) + 10
    largest = max((sum(b.parts) for b in bars), default=0) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    x = label_w
    for i, name in enumerate(legend):
        colour = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="16" font-size="12">{escape(name)}</text>')
        x += 24 + 8 * len(name)
    for n, bar in enumerate(bars):
        y = top + n * row
        out.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(bar.label)}</text>"
        )
        x0 = float(label_w)
        for i, value in enumerate(bar.parts):
            w = plot_w * value / largest
            if w > 0:
                out.append(
                    f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                    f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                )
            x0 += w
        out.append(
            f'<text x="{x0 + 6:.1f}" y="{y + 14}" font-size="12">'
            f"{escape(human_bytes(sum(bar.parts)))}</text>"
        )
    out.append("</svg>")
    return "".join(out)
