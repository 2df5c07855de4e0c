"""Write a benchmark run as `bench.json` (every figure), `report.md` and PNG charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisoros_db.bench.charts import draw


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def markdown(data: dict[str, Any], charts: list[str], command: str) -> str:
    m = data["machine"]
    lines = [
        f"# advisoros-db benchmark — scale `{data['scale']}`",
        "",
        f"Made by `{command}` on {data['started_at'][:19]} UTC in {data['seconds']:,.0f} s. "
        "Every figure below comes from `bench.json` in this folder; none is edited by hand.",
        "",
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('cores')} cores), memory {m.get('memory_gb')} GB, {m.get('os')}",
        f"- PostgreSQL {m.get('postgresql')}; settings {m.get('server_settings')}",
        "- Both sides on the same server and database, same data: the optimized schema `public` "
        "and the naive baseline `naive` (primary and foreign keys only, no other index, no "
        "partitioning). Queries run as the owner role, so row-level security is not in the "
        "measured path on either side.",
        "",
        "## Data",
        "",
    ]
    counts = data["row_counts"]
    lines.append(f"{sum(counts.values()):,} rows in {len(counts)} tables; the largest:")
    lines.append("")
    for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:10]:
        lines.append(f"- {name}: {n:,}")
    load = data.get("load")
    if load:
        lines += limit_lines(load)
        lines += [
            "",
            f"Loaded in this run: {load['rows']:,} rows in {load['seconds']:,.1f} s "
            f"({load['rows_per_second']:,} rows/s overall, binary COPY, indexes and foreign "
            "keys rebuilt after each table).",
        ]
    for line in data.get("prepared", []):
        lines += ["", f"Before measuring, the benchmark {line}."]
    if data.get("vacuum_seconds") is not None:
        lines += [
            "",
            f"Before measuring, the benchmark ran VACUUM (ANALYZE) on both sides in "
            f"{data['vacuum_seconds']:,.1f} s, so autovacuum does not run during the timings.",
        ]
    waited = data.get("replicas_caught_up")
    if waited:
        late = ", ".join(waited["behind"] + waited["unreachable"]) or "none"
        lines += [
            "",
            f"Then it waited {waited['seconds']:,.1f} s for the replicas to replay all of it "
            f"(still behind or unreachable: {late}).",
        ]
    lines += ["", "## Goals", ""]
    for key, goal in data["goals"].items():
        cases = goal["cases"]
        met = sum(1 for c in cases if c["met"])
        lines.append(f"- **{key}** ({goal['goal']}): {met} of {len(cases)} met")
        for c in cases:
            lines.append(f"  - {'✅' if c['met'] else '❌'} `{c['case']}`: {c['detail']}")
    lines += [
        "",
        "## Cases",
        "",
        "| case | group | optimized p50 / p95 / p99 ms | naive p50 / p95 / p99 ms | naive ÷ optimized (p50) | rows | plan (optimized) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in data["cases"]:
        if c["skipped"]:
            lines.append(f"| `{c['name']}` | {c['group']} | skipped: {c['skipped']} | | | | |")
            continue
        o, n = c["optimized"] or {}, c["naive"] or {}
        plan = c["notes"].get("optimized_plan", {})
        used = ", ".join(plan.get("indexes", [])) or ", ".join(plan.get("scans", []))
        if c["notes"].get("executed"):
            used += f"; {c['notes']['executed']}"
        if "rows_per_second" in o:
            rows = f"{o['rows_per_second']:,} vs {n.get('rows_per_second', 0):,} rows/s"
        else:
            rows = str(o.get("rows"))
        lines.append(
            f"| `{c['name']}` | {c['group']} "
            f"| {_ms(o.get('p50_ms'))} / {_ms(o.get('p95_ms'))} / {_ms(o.get('p99_ms'))} "
            f"| {_ms(n.get('p50_ms'))} / {_ms(n.get('p95_ms'))} / {_ms(n.get('p99_ms'))} "
            f"| {_ratio(c['ratio_p50'])} | {rows} | {used} |"
        )
    lines += ["", "## Cases from other areas", ""]
    for e in data["external"]:
        if e["error"]:
            lines.append(f"- `{e['module']}.{e['name']}`: failed — {e['error']}")
        else:
            figures = ", ".join(f"{k}={v}" for k, v in (e["figures"] or {}).items())
            lines.append(f"- `{e['module']}.{e['name']}` ({e['seconds']:.1f} s): {figures}")
    for missing in data["missing_case_modules"]:
        lines.append(f"- `bench/{missing}.py` has not landed on this branch: no cases from it.")
    if charts:
        lines += ["", "## Charts", ""]
        lines += [f"![{c}]({c})" for c in charts]
    return "\n".join(lines) + "\n"


def summary(data: dict[str, Any], command: str) -> str:
    """A short digest for docs/benchmarks.md: machine, scale, goals, the hot paths, the rest."""
    m = data["machine"]
    counts = data["row_counts"]
    lines = [
        f"`{command}` — {data['started_at'][:10]}, scale `{data['scale']}` "
        f"({counts.get('documents', 0):,} documents, {counts.get('audit_logs', 0):,} audit-log rows, "
        f"{sum(counts.values()):,} rows in all), {m.get('cpu')} ({m.get('cores')} cores), "
        f"{m.get('memory_gb')} GB, PostgreSQL {m.get('postgresql')}.",
        "",
    ]
    load = data.get("load")
    if load:
        lines += [
            f"Load: {load['rows']:,} rows in {load['seconds']:,.0f} s = "
            f"{load['rows_per_second']:,} rows/s overall.",
            "",
        ]
        lines += limit_lines(load)
    if data.get("vacuum_seconds") is not None:
        lines += [
            f"VACUUM (ANALYZE) of both sides before timing: {data['vacuum_seconds']:,.0f} s.",
            "",
        ]
    for key, goal in data["goals"].items():
        cases = goal["cases"]
        met = sum(1 for c in cases if c["met"])
        lines.append(f"- {key} ({goal['goal']}): **{met} of {len(cases)} met**")
    lines += [
        "",
        "| case | optimized p50 / p95 ms | naive p50 / p95 ms | naive ÷ optimized |",
        "|---|---|---|---|",
    ]
    shown = [c for c in data["cases"] if not c["skipped"] and c["optimized"] and c["naive"]]
    shown.sort(key=lambda c: (not c["hot_path"], c["group"], c["name"]))
    for c in shown:
        if c["hot_path"] or c["group"] in ("time series", "archival", "insert cost"):
            o, n = c["optimized"], c["naive"]
            lines.append(
                f"| `{c['name']}` | {_ms(o['p50_ms'])} / {_ms(o['p95_ms'])} "
                f"| {_ms(n['p50_ms'])} / {_ms(n['p95_ms'])} | {_ratio(c['ratio_p50'])} |"
            )
    return "\n".join(lines) + "\n"


def write(data: dict[str, Any], out: Path, command: str) -> list[Path]:
    """Write the report files into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "bench.json"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    charts = draw(data, out)
    md_path = out / "report.md"
    md_path.write_text(markdown(data, [p.name for p in charts], command))
    digest = out / "summary.md"
    digest.write_text(summary(data, command))
    return [json_path, md_path, digest, *charts]


def limit_lines(load: dict[str, Any]) -> list[str]:
    """The ingest limit beside the loader's rate, when the load measured it (`--measure-limit`)."""
    limit = load.get("limit")
    if not limit:
        return []
    return [
        f"Ingest limit (the same rows loaded again from binary COPY files, nothing generating): "
        f"{limit['rows']:,} rows in {limit['seconds']:,.1f} s = {limit['rows_per_second']:,} "
        f"rows/s (COPY {limit['copy_seconds']:,.1f} s, indexes and foreign keys "
        f"{limit['index_seconds']:,.1f} s, summed over connections); the loader ran at "
        f"{load['percent_of_limit']} % of it.",
        "",
    ]
