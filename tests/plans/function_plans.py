"""The plan a SECURITY DEFINER search function's own query gets: EXPLAIN of the call shows only a
Function Scan, so `auto_explain` (nested statements, as notices) reports the inner plans, run as
the owner inside the tenant (the function's query runs as its owner whoever calls it). Logged as
WARNINGs: a function may silence notices (`SET client_min_messages = warning`)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import psycopg

_INDEX = re.compile(r"(?:Index Scan (?:Backward )?using|Index Only Scan using|Index Scan on) (\S+)")
_ROOT = (
    "SELECT coalesce(pg_partition_root(to_regclass(n))::regclass::text, n)"
    " FROM unnest(%s::text[]) n"
)


def through_function(sql: str) -> bool:
    """Whether a catalog query answers through one of the tenant search functions."""
    return " FROM search_tenant_" in sql


def inner_indexes(
    admin_url: str, query: str, params: Mapping[str, Any], org: uuid.UUID | str
) -> tuple[set[str], list[tuple[Any, ...]]]:
    """(indexes the statements inside the call used, by their partitioned parent's name; rows)."""
    notices: list[str] = []
    with psycopg.connect(admin_url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (
            ("auto_explain.log_min_duration", "0"),
            ("auto_explain.log_nested_statements", "on"),
            ("auto_explain.log_level", "warning"),
            ("app.organization_id", str(org)),
        ):
            conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
        rows = conn.execute(query, params).fetchall()  # type: ignore[call-overload]
        # The call's own plan is a Function Scan: every index named is the inner query's.
        names = sorted({m for n in notices for m in _INDEX.findall(n)})
        roots = {str(r[0]) for r in conn.execute(_ROOT, (names,)).fetchall()}
    return roots, rows
