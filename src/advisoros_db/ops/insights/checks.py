"""The problems in an insights report over the settings' thresholds (`insights check`)."""

from __future__ import annotations

from typing import Any

from advisoros_db.settings import Settings


def _problem(check: str, subject: str, message: str) -> dict[str, Any]:
    return {"check": check, "subject": subject, "message": message}


def problems(report: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    found = []
    ix = report["indexes"]
    for i in ix["invalid"]:
        found.append(
            _problem(
                "invalid_index",
                i["index"],
                f"index {i['index']} on {i['table']} is invalid (a failed concurrent build): "
                "drop it and build it again",
            )
        )
    for i in ix["redundant"]:
        if i["kind"] == "duplicate":
            found.append(
                _problem(
                    "duplicate_index",
                    i["index"],
                    f"index {i['index']} on {i['table']} duplicates {i['covered_by']}: drop one",
                )
            )
    for i in ix["unused"]:
        if i["bytes"] >= settings.insights_unused_index_bytes:
            found.append(
                _problem(
                    "unused_index",
                    i["index"],
                    f"index {i['index']} on {i['table']} ({i['bytes']} bytes) has had no scan "
                    f"since {ix['since']}",
                )
            )
    act = report["activity"]
    if (
        act["max_connections"]
        and act["total"] > settings.insights_connections_ratio * act["max_connections"]
    ):
        found.append(
            _problem(
                "connections",
                "max_connections",
                f"{act['total']} connections of max_connections {act['max_connections']}",
            )
        )
    for s in act["blocked"]:
        if (s["query_s"] or 0) >= settings.insights_blocked_s:
            found.append(
                _problem(
                    "blocked_query",
                    str(s["pid"]),
                    f"pid {s['pid']} ({s['role']}) has waited {s['query_s']:.0f} s on a lock "
                    f"held by pid {', '.join(map(str, s['blocked_by']))}",
                )
            )
    for s in act["long_running"]:
        found.append(
            _problem(
                "long_running",
                str(s["pid"]),
                f"pid {s['pid']} ({s['role']}) has run {max(s['query_s'] or 0, s['transaction_s'] or 0):.0f} s "
                f"(over {settings.insights_long_query_s:.0f} s)",
            )
        )
    for s in act["idle_in_transaction"]:
        if (s["state_s"] or 0) >= settings.insights_idle_in_transaction_s:
            found.append(
                _problem(
                    "idle_in_transaction",
                    str(s["pid"]),
                    f"pid {s['pid']} ({s['role']}) is idle in a transaction for {s['state_s']:.0f} s",
                )
            )
    rep = report["replication"]
    for slot in rep["slots"]:
        retained = slot["retained_bytes"] or 0
        if not slot["active"] and retained >= settings.insights_slot_retained_bytes:
            found.append(
                _problem(
                    "abandoned_slot",
                    slot["slot"],
                    f"replication slot {slot['slot']} is inactive and retains {retained} bytes of "
                    f"WAL: start its replica or drop it (SELECT pg_drop_replication_slot(...))",
                )
            )
    for db in rep["wraparound"]:
        if db["xid_age"] >= settings.insights_wraparound_age:
            found.append(
                _problem(
                    "wraparound",
                    db["database"],
                    f"database {db['database']} has transaction-ID age {db['xid_age']}: "
                    "VACUUM (FREEZE) it",
                )
            )
    for table in report["partitions"]["runway"]:
        if not table["partitioned"]:
            continue
        if not table["covers_current"] or table["ahead"] < settings.insights_min_runway:
            found.append(
                _problem(
                    "partition_runway",
                    table["table"],
                    f"{table['table']} has {table['ahead']} {table['unit']} of partitions ahead "
                    f"(fewer than {settings.insights_min_runway}"
                    f"{'' if table['covers_current'] else '; none for the current period'}): "
                    "run `advisoros-db partitions maintain`",
                )
            )
    for window in report["partitions"]["rollback_windows"]:
        if window["open"]:
            found.append(
                _problem(
                    "rollback_window",
                    window["table"],
                    f"{window['table']}'s conversion rollback window is open ({window['kept_table']} "
                    f"is kept and mirrored): `partitions finalize {window['table']}` or "
                    f"`partitions rollback {window['table']}`",
                )
            )
    return found
