"""Mirror a table's writes into its twin, and swap the twin in (or back) in one short transaction."""

from __future__ import annotations

import re
from typing import LiteralString

from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.partitioning.introspect import (
    Conn,
    columns,
    deparsed,
    incoming_foreign_keys,
    primary_key,
    short,
)
from advisoros_db.partitioning.layout import TableSpec

# -- mirroring writes from one table into its twin ------------------------------------------------

_MIRROR_FUNCTION: LiteralString = """
CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET session_replication_role = replica AS $fn$
BEGIN
    -- Replica role: the twin's own triggers (timestamps, audit) must not rewrite mirrored rows.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO {target} ({cols}) VALUES ({new_cols}) ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE {target} SET ({cols}) = ROW({new_cols}) WHERE {pk} = OLD.{pk};
        IF NOT FOUND THEN
            INSERT INTO {target} ({cols}) VALUES ({new_cols}) ON CONFLICT DO NOTHING;
        END IF;
    ELSE
        DELETE FROM {target} WHERE {pk} = OLD.{pk};
    END IF;
    RETURN NULL;
END $fn$;
"""


def mirror_name(source: str) -> str:
    return short(source, "_mirror")


def start_mirror(conn: Conn, source: str, target: str, pk: str) -> None:
    """Mirror every insert, update and delete on `source` into `target`, in the same transaction."""
    cols = [c.name for c in columns(conn, source)]
    fn = sql.Identifier(mirror_name(source))
    conn.execute(
        sql.SQL(_MIRROR_FUNCTION).format(
            fn=fn,
            target=sql.Identifier(target),
            pk=sql.Identifier(pk),
            cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
            new_cols=sql.SQL(", ").join(sql.SQL("NEW.{}").format(sql.Identifier(c)) for c in cols),
        )
    )
    conn.execute(
        sql.SQL("DROP TRIGGER IF EXISTS partition_mirror ON {}").format(sql.Identifier(source))
    )
    conn.execute(
        sql.SQL(
            "CREATE TRIGGER partition_mirror AFTER INSERT OR UPDATE OR DELETE ON {t}"
            " FOR EACH ROW EXECUTE FUNCTION {fn}()"
        ).format(t=sql.Identifier(source), fn=fn)
    )


def stop_mirror(conn: Conn, source: str) -> None:
    conn.execute(
        sql.SQL("DROP TRIGGER IF EXISTS partition_mirror ON {}").format(sql.Identifier(source))
    )
    conn.execute(
        sql.SQL("DROP FUNCTION IF EXISTS {}()").format(sql.Identifier(mirror_name(source)))
    )


# -- the swap ------------------------------------------------------------------------------------


def _rename_relation_objects(conn: Conn, table: str, old_suffix: str, new_suffix: str) -> None:
    """Rename the indexes and constraints of `table` from `name<old_suffix>` to `name<new_suffix>`."""
    for (name,) in conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass ORDER BY 1",
        (table,),
    ).fetchall():
        base = name.removesuffix(old_suffix) if old_suffix else name
        if old_suffix and base == name:
            continue
        conn.execute(
            sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(name), sql.Identifier(short(base, new_suffix))
            )
        )
    for (name,) in conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
        " ORDER BY 1",
        (table,),
    ).fetchall():
        base = name.removesuffix(old_suffix) if old_suffix else name
        if old_suffix and base == name:
            continue
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.Identifier(short(base, new_suffix))
            )
        )


def lock_for_swap(
    conn: Conn, spec: TableSpec, live: str, standby: str
) -> list[tuple[str, str, str]]:
    """Take the swap's locks in one fixed order: live table, twin, then referencing tables by name."""
    conn.execute(
        sql.SQL("LOCK TABLE {}, {} IN ACCESS EXCLUSIVE MODE").format(
            sql.Identifier(live), sql.Identifier(standby)
        )
    )
    fks = incoming_foreign_keys(conn, live)
    if spec.key_registry:
        fks += incoming_foreign_keys(conn, spec.registry)
    referencing = sorted({fk[0] for fk in fks} - {live, standby, spec.registry})
    for table in referencing:
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(deparsed(table)))
    return fks


def _repoint(
    conn: Conn, fks: list[tuple[str, str, str]], src: str, dst: str, *, skip: str
) -> list[tuple[str, str]]:
    """Re-create foreign keys that reference `src` to reference `dst` (NOT VALID: no scan under the
    swap's locks); returns what to VALIDATE after commit."""
    pending = []
    pattern = re.compile(rf"REFERENCES (public\.)?{re.escape(src)}\(")
    for table, name, definition in fks:
        # The table's own self-reference moves with it (the twin's already points at the registry).
        if table == skip or not pattern.search(definition):
            continue
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                deparsed(table), sql.Identifier(name)
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                deparsed(table), sql.Identifier(name)
            )
            + deparsed(pattern.sub(f"REFERENCES public.{dst}(", definition) + " NOT VALID")
        )
        pending.append((table, name))
    return pending


def validate(conn: Conn, pending: list[tuple[str, str]]) -> None:
    for table, name in pending:
        conn.execute(
            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                deparsed(table), sql.Identifier(name)
            )
        )


def _hand_over_sequences(conn: Conn, src: str, dst: str) -> None:
    for seq, column in conn.execute(
        "SELECT d.objid::regclass::text, a.attname FROM pg_depend d"
        " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " WHERE d.refobjid = %s::regclass AND d.deptype = 'a'",
        (src,),
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER SEQUENCE {} OWNED BY {}.{}").format(
                deparsed(seq), sql.Identifier(dst), sql.Identifier(column)
            )
        )


def swap(conn: Conn, spec: TableSpec) -> list[tuple[str, str]]:
    """Put `<table>_partitioned` in place of `<table>` (which becomes `<table>_old`, mirrored in
    reverse for the rollback window). Run inside one short transaction; returns FKs to validate."""
    live, twin, old = spec.table, spec.partitioned_name, spec.old_name
    fks = lock_for_swap(conn, spec, live, twin)
    if not spec.key_registry and any(fk[0] != live for fk in fks):
        raise MigrationError(f"foreign keys point at {live}; its spec needs key_registry=True")
    pk = primary_key(conn, live)[0]
    stop_mirror(conn, live)
    _hand_over_sequences(conn, live, twin)
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(old))
    )
    _rename_relation_objects(conn, old, "", "_old")
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(twin), sql.Identifier(live))
    )
    _rename_relation_objects(conn, live, "_p", "")
    pending = _repoint(conn, fks, live, spec.registry, skip=live) if spec.key_registry else []
    start_mirror(conn, live, old, pk)
    return pending


def unswap(conn: Conn, spec: TableSpec) -> list[tuple[str, str]]:
    """The rollback: put `<table>_old` back in place, the partitioned table becomes the twin again,
    mirrored from the plain table so the conversion can swap once more."""
    live, twin, old = spec.table, spec.partitioned_name, spec.old_name
    fks = lock_for_swap(conn, spec, live, old)
    pk = primary_key(conn, old)[0]
    stop_mirror(conn, live)
    _hand_over_sequences(conn, live, old)
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(live), sql.Identifier(twin))
    )
    _rename_relation_objects(conn, twin, "", "_p")
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(old), sql.Identifier(live))
    )
    _rename_relation_objects(conn, live, "_old", "")
    pending = _repoint(conn, fks, spec.registry, live, skip=live) if spec.key_registry else []
    start_mirror(conn, live, twin, pk)
    return pending


def drop_old(conn: Conn, spec: TableSpec) -> None:
    """End the rollback window: stop the reverse mirror and drop the plain table."""
    stop_mirror(conn, spec.table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(spec.old_name)))
