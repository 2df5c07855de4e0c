"""What the attack tests share: session-state changes an application-role borrower can make, and
the state a later borrower of the same pooled connection observes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from advisoros_db.routing import NodeConfig, nodes_from
from tests.routing.conftest import FAST

# One connection per pool: the next borrower gets exactly the connection the attacker returned.
ONE = replace(FAST, pool_size=1)

# Everything a later borrower could inherit, read in one row; the backend pid proves it is the
# same server connection.
_STATE = """
SELECT pg_backend_pid(),
       NULLIF(current_setting('app.organization_id', true), ''),
       current_setting('search_path'),
       current_setting('statement_timeout'),
       current_setting('lock_timeout'),
       current_setting('work_mem'),
       current_setting('role'),
       current_user::text = session_user::text,
       (SELECT count(*) FROM pg_prepared_statements WHERE name = 'attacker_statement'),
       (SELECT count(*) FROM pg_cursors WHERE name = 'attacker_cursor'),
       (SELECT count(*) FROM pg_listening_channels()),
       (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
       to_regclass('pg_temp.{table}') IS NOT NULL,
       current_setting('default_transaction_read_only'),
       current_setting('application_name'),
       NULLIF(current_setting('app.user_id', true), ''),
       (SELECT count(*) FROM pg_prepared_statements WHERE from_sql),
       to_regprocedure('pg_temp.attacker_function()') IS NOT NULL,
       (SELECT count(*) FROM {table})
"""


def state_sql(table: str = "items", *, count: bool = True) -> str:
    """`count=False` for migrated tables, where reading with no tenant set is itself an error
    (revision 0009): the row count column is then 0."""
    state = _STATE.format(table=table)
    return state if count else state.replace(f"(SELECT count(*) FROM {table})", "0")


STATE_SQL = state_sql()

# Session-level changes that any server accepts from the application role, hot standbys included.
# PREPARE and a session advisory lock survive even a rolled-back transaction. `_pg3_90` is a name
# psycopg gives the 91st statement it prepares on a connection. SET LOCAL and the
# transaction-level lock end with the borrower's transaction by themselves.
SESSION_CHANGES = (
    "SELECT set_config('app.organization_id', %(org)s, false)",
    "SELECT set_config('app.user_id', %(org)s, false)",
    "SET search_path TO attacker_schema, public",
    "SET statement_timeout = '4321s'",
    "SET lock_timeout = '4321s'",
    "SET LOCAL work_mem = '6666kB'",
    "SET work_mem = '7777kB'",
    "SET application_name = 'attacker'",
    "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
    "SET ROLE advisoros_app",
    "PREPARE attacker_statement AS SELECT 1",
    "PREPARE _pg3_90 AS SELECT 'attacker'",
    "SELECT pg_advisory_lock(4242)",
    "SELECT pg_advisory_xact_lock(4243)",
)

# And on the primary: a temporary table that would shadow `items` for unqualified names, a
# temporary function and sequence, a notification channel, a cursor held past the commit.
PRIMARY_CHANGES = (
    "CREATE TEMP TABLE {table} AS SELECT 1 AS id",
    "CREATE FUNCTION pg_temp.attacker_function() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE TEMP SEQUENCE attacker_sequence",
    "SELECT nextval('attacker_sequence')",
    "LISTEN attacker_channel",
    "DECLARE attacker_cursor CURSOR WITH HOLD FOR SELECT 1",
)


def changes(
    org: uuid.UUID, *, primary: bool, table: str = "items"
) -> list[tuple[str, dict[str, Any]]]:
    statements = SESSION_CHANGES + (PRIMARY_CHANGES if primary else ())
    return [
        (s.replace("{table}", table), {"org": str(org)} if "%(org)s" in s else {})
        for s in statements
    ]


def assert_clean(before: tuple[Any, ...], after: tuple[Any, ...], victim_rows: int = 0) -> None:
    """The next borrower is on the same connection and inherits nothing."""
    assert after[0] == before[0], "not the same pooled connection: the test proves nothing"
    assert after == before, f"state left by the previous borrower: {before} -> {after}"
    assert after[1] is None and after[-1] == victim_rows


def single_replica(app_nodes: tuple[NodeConfig, ...]) -> tuple[NodeConfig, ...]:
    """Primary and one replica: every read lands on the same replica pool."""
    return nodes_from(app_nodes[0].url, [app_nodes[1].url])


Run = Callable[[str, dict[str, Any]], Any]
