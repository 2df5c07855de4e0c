"""Write a benchmark run as `bench.json` (every figure), `report.md` and PNG charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisoros_db.bench.charts import draw
from advisoros_db.datagen.limit import checkpoints


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _ratio(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}x"


def _owner(owner: dict[str, Any] | None) -> str:
    if not owner:
        return "-"
    o, n = owner["optimized"], owner["naive"]
    return f"{_ms(o['p50_ms'])} / {_ms(n['p50_ms'])} ({_ratio(owner['ratio_p50'])})"


def _mb(value: int) -> str:
    return f"{value / 1024**2:,.1f} MB"


def _bounds(cases: list[dict[str, Any]]) -> list[str]:
    """Where a hot path's time goes: EXPLAIN (ANALYZE, BUFFERS) of one execution as the
    application role, against the p50 the client measured (the rest is protocol and rows sent)."""
    analyzed = [c for c in cases if c["notes"].get("analyze") and c["optimized"]]
    if not analyzed:
        return []
    lines = [
        "",
        "## What bounds the hot paths",
        "",
        "One execution of each hot path under EXPLAIN (ANALYZE, BUFFERS), as the application "
        "role in the sampled firm's transaction: planning and execution time inside the server, "
        "shared buffers hit / read, and the plan nodes that took the most time of their own. "
        "The client's p50 minus both is the round trip and the transfer of the rows.",
        "",
        "| case | p50 ms (client) | planning ms | execution ms | rows | buffers hit / read | heaviest nodes (own ms, rows) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in analyzed:
        a = c["notes"]["analyze"]
        steps = "; ".join(
            f"{s['node']} {s['self_ms']:.2f} ms, {s['rows']:,} rows" for s in a["steps"][:3]
        )
        lines.append(
            f"| `{c['name']}` | {_ms(c['optimized']['p50_ms'])} | {a['planning_ms']:.2f} "
            f"| {a['execution_ms']:.2f} | {a['rows']:,} "
            f"| {a['buffers']['hit']:,} / {a['buffers']['read']:,} | {steps} |"
        )
    return lines


def _ranked(cases: list[dict[str, Any]]) -> list[str]:
    """What a ranked search pays for: every match is scored before the top 20 are known."""
    ranked = [c for c in cases if c["notes"].get("ranked_matches") and c["optimized"]]
    if not ranked:
        return []
    lines = [
        "",
        "## What bounds the ranked searches",
        "",
        "A ranked search scores every document of the firm that matches before it knows its "
        "top 20 (no index here returns rows in rank order). Matches are counted by the owner "
        "in the sampled firm's transaction; the last column is the optimized p50 spread over "
        "them.",
        "",
        "| case | optimized p50 / p95 ms | naive p50 ms | documents matched and ranked "
        "| µs per match (p50) |",
        "|---|---|---|---|---|",
    ]
    for c in ranked:
        matches = c["notes"]["ranked_matches"]
        o = c["optimized"]
        naive = c["naive"]["p50_ms"] if c.get("naive") else None
        lines.append(
            f"| `{c['name']}` | {_ms(o['p50_ms'])} / {_ms(o['p95_ms'])} | {_ms(naive)} "
            f"| {matches:,} | {1000 * o['p50_ms'] / matches:,.1f} |"
        )
    return lines


def _indexes(section: dict[str, Any] | None) -> list[str]:
    if not section:
        return []
    low, high = section["estimate_bytes"]
    verdict = "within" if low <= section["total_bytes"] <= high else "outside"
    lines = [
        "",
        "## Indexes",
        "",
        f"{section['count']} indexes on the optimized side take {_mb(section['total_bytes'])} "
        f"at this scale ({_mb(section['constraint_bytes'])} back primary and unique keys, "
        f"{_mb(section['secondary_bytes'])} are secondary); the original report estimated "
        f"{section['estimate']} of index storage ({verdict} that range at this scale).",
        "",
        "Uses are the measured cases whose optimized plan (EXPLAIN, as the role that ran the "
        "case) reads the index, with that case's speed-up over naive (p50); a case in bold is the "
        "one the catalog names the index for. Insert cost: the fastest of the rolled-back "
        "inserts of copied rows into the table with every index, and again with only this index "
        "dropped (same transaction); the difference is what it adds per 1,000 rows. Indexes that "
        "back a key cannot be dropped without the rule, so they have no figure. A negative figure "
        "is a difference smaller than the run-to-run noise of the machine at the time.",
        "",
    ]
    reinserted = sorted(t for t, v in section["inserts"].items() if v.get("method") == "reinsert")
    if reinserted:
        lines += [
            "Copies would break a unique rule of "
            + ", ".join(f"`{t}`" for t in reinserted)
            + ": there the same rows are deleted first and inserted again as they were (the "
            "delete's dead index entries are in both figures, so compare these tables' costs "
            "with each other, not with the others').",
            "",
        ]
    failed = {t: v["error"] for t, v in section["inserts"].items() if "error" in v}
    for name, error in sorted(failed.items()):
        lines.append(f"- inserts into `{name}` not measured: {error}")
    if failed:
        lines.append("")
    lines += [
        "| index | table | kind | size | used by (speed-up p50) | inserts rows/s with / without | adds ms per 1,000 rows | overlaps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i in section["indexes"]:
        kind = i["method"] + (f", {i['constraint']}" if i["constraint"] else "")
        used = ", ".join(
            (f"**{u['case']}**" if u["named"] else u["case"]) + f" ({_ratio(u['ratio_p50'])})"
            for u in i["used_by"]
        ) or ("none (named by the catalog)" if i["named_by_catalog"] else "none")
        rates = (
            f"{i['insert_rows_per_second_with']:,} / {i['rows_per_second_without']:,}"
            if i.get("rows_per_second_without") is not None
            else "-"
        )
        adds = i.get("adds_ms_per_1000_rows")
        lines.append(
            f"| `{i['name']}` | {i['table']} | {kind} | {_mb(i['bytes'])} | {used} | {rates} "
            f"| {'-' if adds is None else f'{adds:,.2f}'} "
            f"| {('prefix of `' + i['overlaps'] + '`') if i['overlaps'] else ''} |"
        )
    return lines


def partial_lines(data: dict[str, Any]) -> list[str]:
    """What a partial run (`--only`) measured and what it left out."""
    partial = data.get("partial")
    if not partial:
        return []
    patterns = ", ".join(f"`{p}`" for p in partial["patterns"])
    cases = ", ".join(f"`{c}`" for c in partial["cases"])
    return [
        f"**Partial run**: only the cases matching {patterns} were measured "
        f"({len(partial['cases'])}: {cases}), on the data set already loaded (not reloaded). "
        "The goals below cover these cases only; the other cases and the per-index table were "
        "not measured in this run (a full run's report has them).",
        "",
    ]


def markdown(data: dict[str, Any], charts: list[str], command: str) -> str:
    m = data["machine"]
    lines = [
        f"# advisoros-db benchmark — scale `{data['scale']}`"
        + (" (partial run)" if data.get("partial") else ""),
        "",
        f"Made by `{command}` on {data['started_at'][:19]} UTC in {data['seconds']:,.0f} s. "
        "Every figure below comes from `bench.json` in this folder; none is edited by hand.",
        "",
        *partial_lines(data),
        "## Machine",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('cores')} cores), memory {m.get('memory_gb')} GB, {m.get('os')}",
        f"- PostgreSQL {m.get('postgresql')}; settings {m.get('server_settings')}",
        f"- Load average (1/5/15 min) when the timings started {m.get('load_average_start')}, "
        f"when they ended {m.get('load_average_end')}: work of other processes on the same "
        f"cores lands in the figures.",
        "- Both sides on the same server and database, same data: the optimized schema `public` "
        "and the naive baseline `naive` (primary and foreign keys only, no other index, no "
        "partitioning) under the same row-level security policies. Tenant cases run as the "
        "application role (`advisoros_app`) inside a tenant transaction for the firm the catalog "
        "samples, as the application runs them; the goals are judged on those figures. The "
        "owner's figures (no row-level security) are a second column. Worker queries that read "
        "every tenant, and maintenance (archival), run as the owner, as production runs them.",
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
        lines += ["", *limit_lines(load)]
        lines += [
            f"Loaded in this run: {load['rows']:,} rows in {load['seconds']:,.1f} s "
            f"({load['rows_per_second']:,} rows/s overall, binary COPY, indexes and foreign "
            "keys rebuilt after each table).",
        ]
        lines += load_profile(load)
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
        "| case | group | role | optimized p50 / p95 / p99 ms | naive p50 / p95 / p99 ms | naive ÷ optimized (p50) | owner: optimized / naive p50 ms (ratio) | rows | plan (optimized) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in data["cases"]:
        if c["skipped"]:
            lines.append(f"| `{c['name']}` | {c['group']} | | skipped: {c['skipped']} | | | | | |")
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
            f"| `{c['name']}` | {c['group']} | {c.get('role', 'owner')} "
            f"| {_ms(o.get('p50_ms'))} / {_ms(o.get('p95_ms'))} / {_ms(o.get('p99_ms'))} "
            f"| {_ms(n.get('p50_ms'))} / {_ms(n.get('p95_ms'))} / {_ms(n.get('p99_ms'))} "
            f"| {_ratio(c['ratio_p50'])} | {_owner(c.get('owner'))} | {rows} | {used} |"
        )
    lines += _bounds(data["cases"])
    lines += _ranked(data["cases"])
    lines += _indexes(data.get("indexes"))
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
        f"{m.get('memory_gb')} GB, PostgreSQL {m.get('postgresql')}, load average "
        f"{m.get('load_average_start')} at the start and {m.get('load_average_end')} at the end "
        "of the timings. Tenant cases as the application role under row-level security.",
        "",
        *partial_lines(data),
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
    indexes = data.get("indexes")
    if indexes:
        lines.append(
            f"- index storage: {_mb(indexes['total_bytes'])} in {indexes['count']} indexes "
            f"(the original report estimated {indexes['estimate']})"
        )
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


def load_profile(load: dict[str, Any], top: int = 10) -> list[str]:
    """Where the load's time went, per table: seconds of COPY and of index and foreign-key builds
    in the loader and, when measured, in the ingest limit's reload of the same rows."""
    tables = sorted(load.get("tables", []), key=lambda t: -t["seconds"])[:top]
    if not tables:
        return []
    limit = {t["table"]: t for t in (load.get("limit") or {}).get("tables", [])}
    lines = [
        "",
        "Where the load's time went (the tables that took longest; seconds of each table's "
        "COPY and of its index and foreign-key builds; a loader COPY far above the limit's is "
        "the table waiting for its generated rows):",
        "",
        "| table | rows | loader COPY s | loader indexes + FK s | limit COPY s "
        "| limit indexes + FK s |",
        "|---|---|---|---|---|---|",
    ]
    for t in tables:
        again = limit.get(t["table"])
        reload = (
            f"{again['copy_seconds']:,.1f} | {again['index_seconds']:,.1f}" if again else "- | -"
        )
        lines.append(
            f"| `{t['table']}` | {t['rows']:,} | {t['copy_seconds']:,.1f} "
            f"| {t['index_seconds']:,.1f} | {reload} |"
        )
    return lines


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
        f"{load['percent_of_limit']} % of it. "
        + checkpoints(load.get("checkpoint_seconds"), limit.get("checkpoint_seconds"))
        + ".",
        "",
    ]
