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
    exists,
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


_RENAMABLE: tuple[tuple[LiteralString, LiteralString], ...] = (
    (
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass ORDER BY 1",
        "ALTER INDEX {name} RENAME TO {new}",
    ),
    (
        "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
        " ORDER BY 1",
        "ALTER TABLE {table} RENAME CONSTRAINT {name} TO {new}",
    ),
)


def _rename_relation_objects(conn: Conn, table: str, old_suffix: str, new_suffix: str) -> None:
    """Rename the indexes and constraints of `table` from `name<old_suffix>` to `name<new_suffix>`."""
    for listing, rename in _RENAMABLE:
        for (name,) in conn.execute(listing, (table,)).fetchall():
            base = name.removesuffix(old_suffix) if old_suffix else name
            if old_suffix and base == name:
                continue
            conn.execute(
                sql.SQL(rename).format(
                    table=sql.Identifier(table),
                    name=sql.Identifier(name),
                    new=sql.Identifier(short(base, new_suffix)),
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
    refuse_loss(conn, spec, pk)
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


_MISSING: LiteralString = """
SELECT l.{pk}::text, l.{key}::text FROM {live} l
WHERE NOT EXISTS (SELECT 1 FROM {old} o WHERE o.{pk} = l.{pk} AND o.{key} IS NOT DISTINCT FROM l.{key})
LIMIT 6
"""


def refuse_loss(conn: Conn, spec: TableSpec, pk: str) -> None:
    """Raise unless every row of the partitioned table is in `<table>_old`: swapping back would
    drop the others (the reverse mirror cannot hold a row the plain table's keys refuse). One scan
    of the table, under the swap's locks, so that no write slips in between the check and the swap."""
    missing = conn.execute(
        sql.SQL(_MISSING).format(
            pk=sql.Identifier(pk),
            key=sql.Identifier(spec.key),
            live=sql.Identifier(spec.table),
            old=sql.Identifier(spec.old_name),
        )
    ).fetchall()
    if missing:
        shown = ", ".join(f"({pk} {row}, {spec.key} {key})" for row, key in missing[:5])
        raise MigrationError(
            f"swapping {spec.old_name} back in would drop rows of {spec.table} that it does not "
            f"hold: {shown}{' and more' if len(missing) > 5 else ''}. Nothing was changed. The "
            f"plain table holds one row per {pk}, kept in step by {pk}: a row sharing another's "
            f"{pk} never reached it, and deleting one of the two deleted the other's copy. Make "
            f"the {pk}s unique and put the missing rows back into {spec.old_name}, or keep the "
            f"partitioned table (`advisoros-db partitions finalize {spec.table}`)"
        )


def drop_old(conn: Conn, spec: TableSpec) -> None:
    """End the rollback window: stop the reverse mirror and drop the plain table."""
    stop_mirror(conn, spec.table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(spec.old_name)))


SHAPE_SCHEMA = "partitioning"


def keep_shape(conn: Conn, spec: TableSpec) -> None:
    """Close the rollback window a migration's swap opened: stop the reverse mirror, empty the
    plain table and keep it, never written, as `partitioning.<table>_plain`: the blueprint the
    0005 downgrade rebuilds the plain table from. No copy, no doubled writes."""
    stop_mirror(conn, spec.table)
    old, shape = sql.Identifier(spec.old_name), sql.Identifier(spec.shape_name)
    conn.execute(sql.SQL("TRUNCATE {}").format(old))
    conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(old, shape))
    conn.execute(
        sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(shape, sql.Identifier(SHAPE_SCHEMA))
    )


def restore_shape(conn: Conn, spec: TableSpec) -> bool:
    """Bring the plain table back from its blueprint as `<table>_old`, holding every row of the
    partitioned table (what `unswap` then swaps in); False when there is no blueprint."""
    if not exists(conn, f"{SHAPE_SCHEMA}.{spec.shape_name}"):
        return False
    live, old = sql.Identifier(spec.table), sql.Identifier(spec.old_name)
    conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(live))
    conn.execute(
        sql.SQL("ALTER TABLE {} SET SCHEMA public").format(
            sql.Identifier(SHAPE_SCHEMA, spec.shape_name)
        )
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(spec.shape_name), old)
    )
    present = {c.name for c in columns(conn, spec.table)}
    cols = sql.SQL(", ").join(
        sql.Identifier(c.name) for c in columns(conn, spec.old_name) if c.name in present
    )
    # Replica role: the plain table's own triggers (timestamps, audit) must not rewrite the rows.
    conn.execute("SET LOCAL session_replication_role = replica")
    conn.execute(sql.SQL("INSERT INTO {} ({c}) SELECT {c} FROM {}").format(old, live, c=cols))
    conn.execute("SET LOCAL session_replication_role = origin")
    return True
