"""The id registry `<table>_keys` of a partitioned table: one row per id, what foreign keys into the
table reference (a partitioned table's unique keys must include its partition key, which may be
NULL). Triggers on the partitioned table keep it in step, and make an id unique across every
partition and every organization: an insert that reuses another row's id fails, and a row's id and
tenant cannot change.

Two designs of the same triggers, chosen per database (docs/partitioning.md, "Document keys"):
row-level (revision 0004/0011: a SECURITY DEFINER PL/pgSQL call per inserted and deleted row) and
statement-level (revision 0017_write_cost_document_keys: one call and one INSERT ... SELECT per
statement over its transition table). Which one a database runs is told by the statement design's
functions existing; a registry rebuilt later gets the same design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import LiteralString

from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.partitioning.introspect import (
    Column,
    Conn,
    columns,
    deparsed,
    exists,
    is_partitioned,
    primary_key,
    short,
)
from advisoros_db.partitioning.layout import TableSpec

_ROW_FUNCTIONS: LiteralString = """
CREATE OR REPLACE FUNCTION {insert_fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
DECLARE
    clash boolean;
BEGIN
    INSERT INTO {registry} ({cols}) VALUES ({new_cols}) ON CONFLICT ({pk}) DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    -- The id is registered. Two writes may reuse the entry: the same row again (mirrored or
    -- re-copied; the table's own unique key then decides) and a row moving to another partition
    -- (an UPDATE of the partition key, whose old version this statement has deleted already).
    -- Any other row with this id, in another partition or of another tenant, is refused.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE {pk_text} = $1'
                   ' AND {key_text} IS DISTINCT FROM $2)', pg_partition_root(TG_RELID))
       INTO clash USING NEW.{pk}, NEW.{key};
    IF clash OR NOT EXISTS (SELECT 1 FROM {registry} WHERE ROW({cols}) = ROW({new_cols})) THEN
        RAISE EXCEPTION 'id % is already in use by another row of %', NEW.{pk},
            pg_partition_root(TG_RELID)
            USING ERRCODE = 'unique_violation', CONSTRAINT = {pk_constraint},
                  HINT = 'an id is unique across all partitions and organizations:'
                         ' leave id out and let the database generate one';
    END IF;
    RETURN NEW;
END $fn$;
CREATE OR REPLACE FUNCTION {delete_fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
DECLARE
    still_there boolean;
BEGIN
    -- AFTER ROW triggers run at the end of the statement: a row that moved to another partition
    -- is already there again, and must keep its registry entry (and what references it). The root
    -- is looked up, not named: the table is renamed by the swap.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE {pk_text} = $1)',
                   pg_partition_root(TG_RELID))
       INTO still_there USING OLD.{pk};
    IF NOT still_there THEN
        DELETE FROM {registry} WHERE {pk} = OLD.{pk};
    END IF;
    RETURN NULL;
END $fn$;
CREATE OR REPLACE FUNCTION {fixed_fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF ROW({old_cols}) IS DISTINCT FROM ROW({new_cols}) THEN
        RAISE EXCEPTION '% of a row of % cannot change', {cols_text}, pg_partition_root(TG_RELID)
            USING ERRCODE = 'check_violation',
                  HINT = 'foreign keys and the id registry follow them: insert a new row instead';
    END IF;
    RETURN NEW;
END $fn$;
"""

_STATEMENT_FUNCTIONS: LiteralString = """
CREATE OR REPLACE FUNCTION {insert_fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
DECLARE
    added bigint;
    clash text;
BEGIN
    -- The statement's new rows only (rows its ON CONFLICT skipped, or that an UPDATE moved to
    -- another partition, are not in new_rows). A taken id is skipped here and refused below; a
    -- concurrent insert of the same id waits for the other transaction, as a unique index does.
    INSERT INTO {registry} ({cols}) SELECT {cols} FROM new_rows ON CONFLICT ({pk}) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added = (SELECT count(*) FROM new_rows) THEN
        RETURN NULL;
    END IF;
    -- Name one refused id: registered to another row's tenant (invisible here under row-level
    -- security, so not found), or used twice in the table (another tax year, or this statement).
    EXECUTE format('SELECT n.{pk_text}::text FROM new_rows n'
                   ' WHERE NOT EXISTS (SELECT 1 FROM {registry_text} k'
                   ' WHERE ROW({k_cols}) = ROW({n_cols}))'
                   ' OR (SELECT count(*) FROM %s d WHERE d.{pk_text} = n.{pk_text}) > 1'
                   ' LIMIT 1', TG_RELID::regclass)
       INTO clash;
    RAISE EXCEPTION 'id % is already in use by another row of %', coalesce(clash, '(unknown)'),
        TG_RELID::regclass
        USING ERRCODE = 'unique_violation', CONSTRAINT = {pk_constraint},
              HINT = 'an id is unique across all partitions and organizations:'
                     ' leave id out and let the database generate one';
END $fn$;
CREATE OR REPLACE FUNCTION {delete_fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
BEGIN
    -- Statement-level DELETE triggers do not fire for rows an UPDATE moves between partitions:
    -- every id here left the table, unless another row still holds it.
    EXECUTE format('DELETE FROM {registry_text} k USING old_rows o WHERE k.{pk_text} = o.{pk_text}'
                   ' AND NOT EXISTS (SELECT 1 FROM %s d WHERE d.{pk_text} = o.{pk_text})',
                   TG_RELID::regclass);
    RETURN NULL;
END $fn$;
CREATE OR REPLACE FUNCTION {fixed_fn}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    RAISE EXCEPTION '% of a row of % cannot change', {cols_text}, pg_partition_root(TG_RELID)
        USING ERRCODE = 'check_violation',
              HINT = 'foreign keys and the id registry follow them: insert a new row instead';
END $fn$;
"""


@dataclass(frozen=True)
class _Design:
    functions: LiteralString
    # (trigger, what precedes "EXECUTE FUNCTION", function suffix); {t} is the table, {changed}
    # the row comparison of the key columns
    triggers: tuple[tuple[str, LiteralString, str], ...]


_ROW = _Design(
    _ROW_FUNCTIONS,
    (
        ("partition_register", "BEFORE INSERT ON {t} FOR EACH ROW", "_register"),
        ("partition_unregister", "AFTER DELETE ON {t} FOR EACH ROW", "_unregister"),
        ("partition_keys_fixed", "BEFORE UPDATE ON {t} FOR EACH ROW", "_fixed"),
    ),
)
_STATEMENT = _Design(
    _STATEMENT_FUNCTIONS,
    (
        (
            "partition_register",
            "AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
            "_added",
        ),
        (
            "partition_unregister",
            "AFTER DELETE ON {t} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
            "_removed",
        ),
        ("partition_keys_fixed", "BEFORE UPDATE ON {t} FOR EACH ROW WHEN ({changed})", "_fixed"),
    ),
)


def function_names(spec: TableSpec, per_statement: bool) -> list[str]:
    design = _STATEMENT if per_statement else _ROW
    return [short(spec.registry, suffix) for _, _, suffix in design.triggers]


def per_statement(conn: Conn, spec: TableSpec) -> bool:
    """Whether this database runs the statement-level design (its functions exist)."""
    row = conn.execute(
        "SELECT to_regprocedure(%s) IS NOT NULL", (short(spec.registry, "_added") + "()",)
    ).fetchone()
    return row == (True,)


def registry_columns(conn: Conn, spec: TableSpec) -> list[Column]:
    """The primary key and every column a foreign key into the table references."""
    pk = primary_key(conn, spec.table)
    referenced = {
        r[0]
        for r in conn.execute(
            "SELECT a.attname FROM pg_constraint c CROSS JOIN LATERAL unnest(c.confkey) k(n)"
            " JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n"
            " WHERE c.confrelid = %s::regclass AND c.contype = 'f'",
            (spec.table,),
        ).fetchall()
    }
    return [c for c in columns(conn, spec.table) if c.name in set(pk) | referenced]


def _pk_constraint(spec: TableSpec) -> str:
    return short(f"pk_{spec.registry}", "")


def build_registry(conn: Conn, spec: TableSpec, parent: str) -> None:
    """Create `<table>_keys` (one row per id, what incoming foreign keys reference), its unique
    keys, and the triggers on `parent` that keep it in step; fill it from `parent`. Idempotent."""
    if exists(conn, spec.registry):
        return
    reg = sql.Identifier(spec.registry)
    pk = primary_key(conn, spec.table)[0]
    cols = registry_columns(conn, spec)
    conn.execute(
        sql.SQL("CREATE TABLE {r} ({defs}, CONSTRAINT {pk_name} PRIMARY KEY ({pk}))").format(
            r=reg,
            pk_name=sql.Identifier(_pk_constraint(spec)),
            defs=sql.SQL(", ").join(
                sql.SQL("{} {} NOT NULL").format(sql.Identifier(c.name), deparsed(c.type))
                for c in cols
            ),
            pk=sql.Identifier(pk),
        )
    )
    # Every unique key an incoming foreign key references exists on the registry too.
    for keycols in conn.execute(
        "SELECT DISTINCT ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, o)"
        " JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)"
        " FROM pg_constraint c WHERE c.confrelid = %s::regclass AND c.contype = 'f'",
        (spec.table,),
    ).fetchall():
        if keycols[0] == [pk]:
            continue
        conn.execute(
            sql.SQL("ALTER TABLE {r} ADD CONSTRAINT {n} UNIQUE ({cols})").format(
                r=reg,
                n=sql.Identifier(short(f"uq_{spec.registry}_{'_'.join(keycols[0])}", "")),
                cols=sql.SQL(", ").join(map(sql.Identifier, keycols[0])),
            )
        )
    # Tenant ids live here too: the same forced row-level security as the table. No grants: only
    # the registry's triggers (as its owner) and foreign-key checks touch it.
    conn.execute("SELECT partition_secure(%s::regclass, %s::regclass)", (spec.registry, spec.table))
    refuse_duplicates(conn, spec, parent)
    install_triggers(conn, spec, parent)
    conn.execute(
        sql.SQL("INSERT INTO {r} ({cols}) SELECT {cols} FROM {t}").format(
            r=reg,
            cols=sql.SQL(", ").join(sql.Identifier(c.name) for c in cols),
            t=sql.Identifier(parent),
        )
    )


def install_triggers(
    conn: Conn, spec: TableSpec, parent: str, statement_level: bool | None = None
) -> None:
    """(Re)create the registry's functions and their triggers on `parent`, in the design the
    database runs unless `statement_level` says which; drop the other design's functions.
    Idempotent."""
    if statement_level is None:
        statement_level = per_statement(conn, spec)
    design = _STATEMENT if statement_level else _ROW
    pk = primary_key(conn, spec.registry)[0]
    cols = [c.name for c in columns(conn, spec.registry)]
    insert_fn, delete_fn, fixed_fn = map(sql.Identifier, function_names(spec, statement_level))

    def row_of(record: str) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL(record + ".{}").format(sql.Identifier(c)) for c in cols)

    def text_of(name: str) -> sql.Composable:
        # An identifier written inside a quoted literal of the function body.
        return sql.SQL(sql.Identifier(name).as_string().replace("'", "''"))

    def text_row_of(alias: str) -> sql.Composable:
        return sql.SQL(", ").join(sql.SQL(alias + ".") + text_of(c) for c in cols)

    conn.execute(
        sql.SQL(design.functions).format(
            insert_fn=insert_fn,
            delete_fn=delete_fn,
            fixed_fn=fixed_fn,
            registry=sql.Identifier(spec.registry),
            registry_text=text_of(spec.registry),
            pk=sql.Identifier(pk),
            key=sql.Identifier(spec.key),
            pk_text=text_of(pk),
            key_text=text_of(spec.key),
            pk_constraint=sql.Literal(_pk_constraint(spec)),
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            cols_text=sql.Literal(", ".join(cols)),
            new_cols=row_of("NEW"),
            old_cols=row_of("OLD"),
            k_cols=text_row_of("k"),
            n_cols=text_row_of("n"),
        )
    )
    changed = sql.SQL("ROW({}) IS DISTINCT FROM ROW({})").format(row_of("OLD"), row_of("NEW"))
    for (trigger, shape, _), function in zip(
        design.triggers, (insert_fn, delete_fn, fixed_fn), strict=True
    ):
        conn.execute(
            sql.SQL("DROP TRIGGER IF EXISTS {tg} ON {t}").format(
                tg=sql.Identifier(trigger), t=sql.Identifier(parent)
            )
        )
        conn.execute(
            sql.SQL("CREATE TRIGGER {tg} {shape} EXECUTE FUNCTION {f}()").format(
                tg=sql.Identifier(trigger),
                shape=sql.SQL(shape).format(t=sql.Identifier(parent), changed=changed),
                f=function,
            )
        )
        # Mirrored writes run with session_replication_role = replica; the registry must still follow.
        conn.execute(
            sql.SQL("ALTER TABLE {t} ENABLE ALWAYS TRIGGER {tg}").format(
                t=sql.Identifier(parent), tg=sql.Identifier(trigger)
            )
        )
    other = set(function_names(spec, not statement_level)) - set(
        function_names(spec, statement_level)
    )
    for name in sorted(other):
        conn.execute(sql.SQL("DROP FUNCTION IF EXISTS {}()").format(sql.Identifier(name)))


def registry_parent(conn: Conn, spec: TableSpec) -> str | None:
    """The partitioned table that carries the registry's triggers: the live table once swapped in,
    its twin before (or after a rollback); None when the table has no registry."""
    if not spec.key_registry or not exists(conn, spec.registry):
        return None
    for name in (spec.table, spec.partitioned_name):
        if is_partitioned(conn, name):
            return name
    return None


def refuse_duplicates(conn: Conn, spec: TableSpec, parent: str) -> None:
    """Raise, naming a few, if an id of `parent` is used by more than one row, or is registered to
    another tenant's row: the database cannot make ids unique while such rows exist."""
    pk = primary_key(conn, spec.registry)[0]
    cols = [c.name for c in columns(conn, spec.registry)]
    names = {
        "t": sql.Identifier(parent),
        "r": sql.Identifier(spec.registry),
        "pk": sql.Identifier(pk),
        "cols": sql.SQL(", ").join(sql.SQL("k.{}").format(sql.Identifier(c)) for c in cols),
        "row_cols": sql.SQL(", ").join(sql.SQL("d.{}").format(sql.Identifier(c)) for c in cols),
    }
    shared = [
        str(r[0])
        for r in conn.execute(
            sql.SQL(
                "SELECT {pk} FROM {t} GROUP BY {pk} HAVING count(*) > 1 ORDER BY {pk} LIMIT 5"
            ).format(**names)
        ).fetchall()
    ]
    foreign = [
        str(r[0])
        for r in conn.execute(
            sql.SQL(
                "SELECT d.{pk} FROM {t} d JOIN {r} k ON k.{pk} = d.{pk}"
                " WHERE ROW({cols}) IS DISTINCT FROM ROW({row_cols}) ORDER BY 1 LIMIT 5"
            ).format(**names)
        ).fetchall()
    ]
    if shared or foreign:
        found = "; ".join(
            part
            for part in (
                f"ids used by more than one row: {', '.join(shared)}" if shared else "",
                f"ids registered to another organization's row: {', '.join(foreign)}"
                if foreign
                else "",
            )
            if part
        )
        raise MigrationError(
            f"{spec.table} ids must be unique across all partitions and organizations, and these "
            f"are not ({found}; at most 5 of each shown). Nothing was changed. Give each extra row "
            f"of {parent} a new {pk} (the rows that reference it must follow) or delete it, then "
            "run this again"
        )


def enforce(conn: Conn, spec: TableSpec) -> None:
    """Make ids unique on a database whose registry was built before the triggers enforced it."""
    parent = registry_parent(conn, spec)
    if parent is None:
        return
    refuse_duplicates(conn, spec, parent)
    install_triggers(conn, spec, parent)


def set_design(conn: Conn, spec: TableSpec, statement_level: bool) -> None:
    """Switch the registry's triggers between the row-level and the statement-level design
    (revision 0017_write_cost_document_keys and its downgrade). Nothing to do without a registry."""
    parent = registry_parent(conn, spec)
    if parent is not None:
        install_triggers(conn, spec, parent, statement_level)
