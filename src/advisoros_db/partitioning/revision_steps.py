"""What revisions 0004/0005 do to a table, inside the migration's transaction: build its partitioned
twin, drop it, copy a small table into the twin and swap, swap back. `migrations/partition_ops.py`
only registers these as Alembic operations; the online conversion (`convert.py`) is for big tables."""

from __future__ import annotations

from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.partitioning import ddl, keys
from advisoros_db.partitioning.layout import SPECS, TableSpec

# Above this many rows a migration will not copy a table under lock: the online conversion must.
SMALL_TABLE_ROWS = 10_000


def spec(table: str) -> TableSpec:
    if table not in SPECS:
        raise MigrationError(f"no partition layout for {table!r}; known: {', '.join(SPECS)}")
    return SPECS[table]


def install_functions(conn: ddl.Conn) -> None:
    ddl.install_functions(conn)
    ddl.ensure_state(conn)


def drop_functions(conn: ddl.Conn) -> None:
    ddl.drop_functions(conn)
    conn.execute("DROP SCHEMA IF EXISTS partitioning CASCADE")


def create_twin(conn: ddl.Conn, table: str) -> None:
    """Build `<table>_partitioned` and mirror the live table's writes into it."""
    s = spec(table)
    ddl.build_partitioned(conn, s)
    ddl.start_mirror(conn, s.table, s.partitioned_name, ddl.primary_key(conn, s.table)[0])
    ddl.set_phase(conn, s.table, "syncing")


def drop_twin(conn: ddl.Conn, table: str) -> None:
    s = spec(table)
    if ddl.is_partitioned(conn, s.table):
        raise MigrationError(
            f"{s.table} is the partitioned table; downgrade 0005_partition_swap first"
        )
    ddl.stop_mirror(conn, s.table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(s.partitioned_name)))
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(s.registry)))
    for fn in ("_register", "_unregister"):
        conn.execute(
            sql.SQL("DROP FUNCTION IF EXISTS {}()").format(
                sql.Identifier(ddl.short(s.registry, fn))
            )
        )
    if ddl.exists(conn, "partitioning.conversions"):
        conn.execute("DELETE FROM partitioning.conversions WHERE table_name = %s", (s.table,))


def swap_small(conn: ddl.Conn, table: str, max_rows: int = SMALL_TABLE_ROWS) -> None:
    """Copy a small table into its twin under lock, check the counts, and swap; a populated table
    is refused with the command to run instead. A table already swapped online is left alone."""
    s = spec(table)
    if ddl.is_partitioned(conn, s.table):
        return  # converted online already
    live, twin = sql.Identifier(s.table), sql.Identifier(s.partitioned_name)
    conn.execute(sql.SQL("LOCK TABLE {}, {} IN ACCESS EXCLUSIVE MODE").format(live, twin))
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(live)).fetchone()
    rows = int(row[0]) if row else 0
    if rows > max_rows:
        raise MigrationError(
            f"{s.table} holds {rows} rows (more than {max_rows}): a migration will not "
            f"copy it under lock. Run `advisoros-db partitions convert {s.table}` (online, "
            "resumable), then migrate again"
        )
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute(sql.SQL("DELETE FROM {}").format(twin))
    copied = conn.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(twin, live)).rowcount
    conn.execute("SET LOCAL session_replication_role = origin")
    if copied != rows:
        raise MigrationError(f"copied {copied} of {rows} rows of {s.table}; nothing was swapped")
    ddl.validate(conn, ddl.swap(conn, s))
    # Nothing to roll back to that the migration did not just copy: no window, no doubled writes.
    ddl.keep_shape(conn, s)
    ddl.set_phase(conn, s.table, "finalized")


def unswap(conn: ddl.Conn, table: str) -> None:
    """The rollback: the plain table, kept in sync since an online conversion's swap or rebuilt
    from the blueprint a migration's swap kept, is live again."""
    s = spec(table)
    if not ddl.is_partitioned(conn, s.table):
        return
    if not ddl.exists(conn, s.old_name) and not ddl.restore_shape(conn, s):
        raise MigrationError(
            f"{s.table} was finalized ({s.old_name} is gone): the plain table cannot come back"
            " by downgrade"
        )
    ddl.validate(conn, ddl.unswap(conn, s))
    ddl.set_phase(conn, s.table, "rolled_back")


def enforce_unique_keys(conn: ddl.Conn, table: str) -> None:
    """Ids unique across every partition and organization (revision 0011_keys_unique_document_ids)."""
    keys.enforce(conn, spec(table))


def registry_per_statement(conn: ddl.Conn, table: str, on: bool) -> None:
    """The id registry's triggers fire once per statement (revision
    0017_write_cost_document_keys) or, `on=False`, once per row as before."""
    keys.set_design(conn, spec(table), on)


def refresh_mirror(conn: ddl.Conn, table: str) -> None:
    """Re-create the mirror trigger of `table`, if one runs, so that it copies the columns the
    table has now (a revision added or dropped some on both sides)."""
    s = spec(table)
    row = conn.execute(
        "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = 'partition_mirror'",
        (s.table,),
    ).fetchone()
    if row is None:
        return
    plain = s.old_name if ddl.is_partitioned(conn, s.table) else s.table
    target = s.old_name if plain != s.table else s.partitioned_name
    ddl.start_mirror(conn, s.table, target, ddl.primary_key(conn, plain)[0])
