"""Partition DDL on a psycopg connection: build a partitioned twin of a table, mirror, swap back and forth.

Shared by migrations 0004/0005 and the online conversion in `advisoros_db.partitioning`. Statements
rebuilt from the catalog (index, constraint, trigger and policy definitions deparsed by PostgreSQL)
go through `_deparsed`; everything else is composed with `psycopg.sql`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, LiteralString, cast

import psycopg
from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.migrations.partition_layout import Partition, TableSpec, initial

Conn = psycopg.Connection[Any]

FUNCTIONS = (
    "create_next_audit_logs_partition()",
    "create_next_documents_partition()",
    "archive_old_audit_logs_partition(integer)",
    "get_partition_stats(text)",
    "partition_create(regclass, text, text, text)",
    "partition_secure(regclass, regclass)",
)
STATE_SCHEMA = "partitioning"


_STATE_DDL: LiteralString = """
CREATE SCHEMA IF NOT EXISTS partitioning;
CREATE TABLE IF NOT EXISTS partitioning.conversions (
    table_name text PRIMARY KEY,
    phase text NOT NULL CHECK (phase IN ('prepared', 'syncing', 'backfilled', 'verified', 'swapped',
                                         'rolled_back', 'finalized')),
    last_id text,
    rows_copied bigint NOT NULL DEFAULT 0,
    verification jsonb,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""


def ensure_state(conn: Conn) -> None:
    """The conversions' state table (schema `partitioning`, outside the models' comparison)."""
    conn.execute(_STATE_DDL)


def set_phase(conn: Conn, table: str, phase: str) -> None:
    conn.execute(
        "INSERT INTO partitioning.conversions (table_name, phase) VALUES (%s, %s)"
        " ON CONFLICT (table_name) DO UPDATE SET phase = EXCLUDED.phase, updated_at = now()",
        (table, phase),
    )


def _deparsed(text: str) -> sql.SQL:
    # Text produced by pg_get_indexdef/pg_get_constraintdef/pg_get_triggerdef: SQL from the server.
    return sql.SQL(text)  # pyright would need a cast; mypy treats LiteralString as str


def install_functions(conn: Conn) -> None:
    """Create (or replace) the maintenance functions and the archive schema."""
    text = resources.files("advisoros_db.migrations").joinpath("sql/partition_functions.sql")
    conn.execute(_deparsed(text.read_text()))


def drop_functions(conn: Conn) -> None:
    for signature in FUNCTIONS:
        conn.execute(_deparsed(f"DROP FUNCTION IF EXISTS {signature}"))


def short(name: str, suffix: str) -> str:
    """`name + suffix` within PostgreSQL's 63-byte identifier limit."""
    return name[: 63 - len(suffix)] + suffix


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool


def columns(conn: Conn, table: str) -> list[Column]:
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (table,),
    ).fetchall()
    if not rows:
        raise MigrationError(f"table {table} has no columns or does not exist")
    return [Column(r[0], r[1], r[2]) for r in rows]


def primary_key(conn: Conn, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT a.attname FROM pg_constraint c"
        " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
        " WHERE c.conrelid = %s::regclass AND c.contype = 'p' ORDER BY k.n",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def exists(conn: Conn, table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)


def is_partitioned(conn: Conn, table: str) -> bool:
    row = conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", (table,)
    ).fetchone()
    return row is not None and row[0] == "p"


def incoming_foreign_keys(conn: Conn, table: str) -> list[tuple[str, str, str]]:
    """(referencing table, constraint name, definition) of the foreign keys that point at `table`."""
    rows = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE confrelid = %s::regclass AND contype = 'f' AND conparentid = 0"
        " ORDER BY conrelid::regclass::text, conname",
        (table,),
    ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


# -- building the partitioned twin ---------------------------------------------------------------


def _key_columns(cols: list[str], key: str) -> list[str]:
    return cols if key in cols else [*cols, key]


def _unique_clause(spec: TableSpec, key_not_null: bool) -> sql.Composable:
    # A NULL key (documents without a tax year) cannot be part of a primary key: such tables get a
    # UNIQUE NULLS NOT DISTINCT key instead, and the id registry keeps ids globally unique.
    return sql.SQL("PRIMARY KEY") if key_not_null else sql.SQL("UNIQUE NULLS NOT DISTINCT")


def build_partitioned(
    conn: Conn, spec: TableSpec, *, today: dt.date | None = None
) -> list[Partition]:
    """Create `<table>_partitioned` shaped like `<table>`, with its partitions, keys, indexes,
    outgoing foreign keys, triggers, grants and forced row-level security. Idempotent."""
    source, target = spec.table, spec.partitioned_name
    if exists(conn, target):
        return []
    cols = {c.name: c for c in columns(conn, source)}
    if spec.key not in cols:
        raise MigrationError(f"{source} has no column {spec.key} to partition by")
    pk = primary_key(conn, source)
    if len(pk) != 1:
        raise MigrationError(f"{source} needs a one-column primary key to convert; it has {pk}")
    key_not_null = cols[spec.key].not_null
    self_reference = re.compile(rf"REFERENCES (public\.)?{re.escape(source)}\(")
    conn.execute(
        sql.SQL(
            "CREATE TABLE {t} (LIKE {s} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED"
            " INCLUDING IDENTITY INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({k})"
        ).format(t=sql.Identifier(target), s=sql.Identifier(source), k=sql.Identifier(spec.key))
    )
    # Constraints and indexes take the old names plus "_p"; the swap gives them the old names.
    for conname, contype, keycols, definition in conn.execute(
        "SELECT c.conname, c.contype,"
        " ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)"
        "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),"
        " pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f')"
        " ORDER BY c.contype, c.conname",
        (source,),
    ).fetchall():
        # A primary key whose new key column can be NULL becomes a unique key, and is named so.
        renamed = (
            f"uq_{source}_{'_'.join(_key_columns(keycols, spec.key))}"
            if contype == "p" and not key_not_null
            else conname
        )
        name = sql.Identifier(short(renamed, "_p"))
        if contype in ("p", "u"):
            kind = (
                _unique_clause(spec, key_not_null)
                if contype == "p"
                else (sql.SQL("UNIQUE") if key_not_null else sql.SQL("UNIQUE NULLS NOT DISTINCT"))
            )
            conn.execute(
                sql.SQL("ALTER TABLE {t} ADD CONSTRAINT {n} {kind} ({cols})").format(
                    t=sql.Identifier(target),
                    n=name,
                    kind=kind,
                    cols=sql.SQL(", ").join(map(sql.Identifier, _key_columns(keycols, spec.key))),
                )
            )
        else:
            if self_reference.search(definition):
                if not spec.key_registry:
                    raise MigrationError(f"{source} references itself; its spec needs key_registry")
                build_registry(conn, spec, target)
            conn.execute(
                sql.SQL("ALTER TABLE {t} ADD CONSTRAINT {n} ").format(
                    t=sql.Identifier(target), n=name
                )
                + _deparsed(self_reference.sub(f"REFERENCES public.{spec.registry}(", definition))
            )
    for index_name, definition, unique in conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)"
        " ORDER BY c.relname",
        (source,),
    ).fetchall():
        conn.execute(
            _deparsed(
                _retarget_index(
                    definition,
                    index_name,
                    source=source,
                    target=target,
                    key=spec.key,
                    unique=unique,
                )
            )
        )
    for (definition,) in conn.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal AND tgname NOT LIKE 'partition\\_%%' ORDER BY tgname",
        (source,),
    ).fetchall():
        conn.execute(_deparsed(_retarget(definition, source, target)))
    copy_privileges(conn, source, target)
    today = today or dt.datetime.now(dt.UTC).date()
    oldest = _oldest(conn, spec)
    parts = initial(spec, today, oldest=oldest)
    for part in parts:
        conn.execute(
            sql.SQL("CREATE TABLE {p} PARTITION OF {t} FOR VALUES FROM ({lo}) TO ({hi})").format(
                p=sql.Identifier(part.name),
                t=sql.Identifier(target),
                lo=sql.Literal(_literal(part.lower)),
                hi=sql.Literal(_literal(part.upper)),
            )
        )
    conn.execute(
        sql.SQL("CREATE TABLE {p} PARTITION OF {t} DEFAULT").format(
            p=sql.Identifier(spec.default_partition), t=sql.Identifier(target)
        )
    )
    secure_partitions(conn, target)
    if spec.key_registry:
        build_registry(conn, spec, target)
    return parts


def _literal(bound: dt.datetime | int) -> str:
    return bound.isoformat() if isinstance(bound, dt.datetime) else str(bound)


def _oldest(conn: Conn, spec: TableSpec) -> dt.datetime | int | None:
    row = conn.execute(
        sql.SQL("SELECT min({k}) FROM {t}").format(
            k=sql.Identifier(spec.key), t=sql.Identifier(spec.table)
        )
    ).fetchone()
    return None if row is None else cast("dt.datetime | int | None", row[0])


def _retarget(definition: str, source: str, target: str) -> str:
    return re.sub(
        rf" ON (public\.)?{re.escape(source)} ", f" ON public.{target} ", definition, count=1
    )


def _retarget_index(
    definition: str, name: str, *, source: str, target: str, key: str, unique: bool
) -> str:
    text = _retarget(definition, source, target)
    text = text.replace(f"INDEX {name} ON", f"INDEX {short(name, '_p')} ON", 1)
    if unique:
        # A unique index on a partitioned table must contain the partition key.
        head, _, rest = text.partition(" USING ")
        method, _, body = rest.partition(" (")
        cols, _, tail = body.partition(")")
        if "(" in cols:
            raise MigrationError(
                f"unique expression index {name} cannot be partitioned; drop it first"
            )
        if key not in [c.strip().split(" ")[0].strip('"') for c in cols.split(",")]:
            cols = f"{cols}, {key}"
        text = f"{head} USING {method} ({cols}){tail}"
    return text


def copy_privileges(conn: Conn, source: str, target: str) -> None:
    for grantee, privilege in conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,"
        " a.privilege_type FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a"
        " WHERE c.oid = %s::regclass AND a.grantee <> c.relowner",
        (source,),
    ).fetchall():
        who = sql.SQL("PUBLIC") if grantee == "PUBLIC" else sql.Identifier(grantee.strip('"'))
        conn.execute(
            sql.SQL("GRANT {p} ON {t} TO {g}").format(
                p=_deparsed(_privilege(privilege)), t=sql.Identifier(target), g=who
            )
        )
    row = conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
        (source,),
    ).fetchone()
    if row and row[0]:
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(target))
        )
    if row and row[1]:
        conn.execute(
            sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(sql.Identifier(target))
        )
    conn.execute("SELECT partition_secure(%s::regclass, %s::regclass)", (target, source))


_PRIVILEGES = {
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "MAINTAIN",
}


def _privilege(name: str) -> str:
    if name not in _PRIVILEGES:
        raise MigrationError(f"unexpected privilege {name!r} in the catalog")
    return name


def secure_partitions(conn: Conn, parent: str) -> None:
    """Give every partition of `parent` the parent's forced row-level security and policies."""
    conn.execute(
        "SELECT partition_secure(inhrelid::regclass, inhparent::regclass) FROM pg_inherits"
        " WHERE inhparent = %s::regclass",
        (parent,),
    )


# -- the id registry that foreign keys point at ---------------------------------------------------

_REGISTRY_FUNCTIONS: LiteralString = """
CREATE OR REPLACE FUNCTION {insert_fn}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $fn$
BEGIN
    INSERT INTO {registry} ({cols}) VALUES ({new_cols}) ON CONFLICT ({pk}) DO NOTHING;
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
"""


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
            pk_name=sql.Identifier(short(f"pk_{spec.registry}", "")),
            defs=sql.SQL(", ").join(
                sql.SQL("{} {} NOT NULL").format(sql.Identifier(c.name), _deparsed(c.type))
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
    names = {
        "insert_fn": sql.Identifier(short(spec.registry, "_register")),
        "delete_fn": sql.Identifier(short(spec.registry, "_unregister")),
        "registry": reg,
        "pk": sql.Identifier(pk),
        "pk_text": sql.SQL(sql.Identifier(pk).as_string().replace("'", "''")),
        "cols": sql.SQL(", ").join(sql.Identifier(c.name) for c in cols),
        "new_cols": sql.SQL(", ").join(
            sql.SQL("NEW.{}").format(sql.Identifier(c.name)) for c in cols
        ),
    }
    conn.execute(sql.SQL(_REGISTRY_FUNCTIONS).format(**names))
    for trigger, timing, function in (
        ("partition_register", "BEFORE INSERT", names["insert_fn"]),
        ("partition_unregister", "AFTER DELETE", names["delete_fn"]),
    ):
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER {tg} {timing} ON {t} FOR EACH ROW EXECUTE FUNCTION {f}()"
            ).format(
                tg=sql.Identifier(trigger),
                timing=_deparsed(timing),
                t=sql.Identifier(parent),
                f=function,
            )
        )
        # Mirrored writes run with session_replication_role = replica; the registry must still follow.
        conn.execute(
            sql.SQL("ALTER TABLE {t} ENABLE ALWAYS TRIGGER {tg}").format(
                t=sql.Identifier(parent), tg=sql.Identifier(trigger)
            )
        )
    conn.execute(
        sql.SQL("INSERT INTO {r} ({cols}) SELECT {cols} FROM {t} ON CONFLICT DO NOTHING").format(
            r=reg, cols=names["cols"], t=sql.Identifier(parent)
        )
    )


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
        conn.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(_deparsed(table)))
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
                _deparsed(table), sql.Identifier(name)
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                _deparsed(table), sql.Identifier(name)
            )
            + _deparsed(pattern.sub(f"REFERENCES public.{dst}(", definition) + " NOT VALID")
        )
        pending.append((table, name))
    return pending


def validate(conn: Conn, pending: list[tuple[str, str]]) -> None:
    for table, name in pending:
        conn.execute(
            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                _deparsed(table), sql.Identifier(name)
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
                _deparsed(seq), sql.Identifier(dst), sql.Identifier(column)
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
