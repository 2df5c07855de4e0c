"""Build the partitioned twin of a plain table (keys with the partition key, indexes on every
partition, outgoing foreign keys, triggers, grants, forced RLS); the id registry that foreign keys
into a partitioned table reference is in `keys.py`."""

from __future__ import annotations

import datetime as dt
import re
from typing import cast

from psycopg import sql

from advisoros_db.errors import MigrationError
from advisoros_db.partitioning.introspect import (
    Conn,
    columns,
    deparsed,
    exists,
    primary_key,
    short,
)
from advisoros_db.partitioning.keys import build_registry
from advisoros_db.partitioning.layout import Partition, TableSpec, initial

# -- building the partitioned twin ---------------------------------------------------------------

# pg_trigger.tgenabled other than the default 'O' (fires unless the session is a replica).
_FIRING = {"A": "ENABLE ALWAYS", "R": "ENABLE REPLICA", "D": "DISABLE"}


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
    constraints = conn.execute(
        "SELECT c.conname, c.contype,"
        " ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o)"
        "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),"
        " pg_get_constraintdef(c.oid)"
        " FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.contype IN ('p', 'u', 'f')"
        " ORDER BY c.contype, c.conname",
        (source,),
    ).fetchall()
    for conname, contype, keycols, definition in constraints:
        if (
            contype == "p"
            and not key_not_null
            and any(other[1] == "u" and set(keycols) <= set(other[2]) for other in constraints)
        ):
            # The key column can be NULL, so this cannot stay a primary key; another unique key
            # (the tenant key) already contains it, and the id registry keeps ids unique.
            continue
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
                + deparsed(self_reference.sub(f"REFERENCES public.{spec.registry}(", definition))
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
            deparsed(
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
    for definition, trigger, enabled in conn.execute(
        "SELECT pg_get_triggerdef(oid), tgname, tgenabled FROM pg_trigger"
        " WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal AND tgname NOT LIKE 'partition\\_%%' ORDER BY tgname",
        (source,),
    ).fetchall():
        conn.execute(deparsed(_retarget(definition, source, target)))
        if enabled in _FIRING:  # the definition says nothing of when it fires: carry that too
            conn.execute(
                sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                    sql.Identifier(target), sql.SQL(_FIRING[enabled]), sql.Identifier(trigger)
                )
            )
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
                p=deparsed(_privilege(privilege)), t=sql.Identifier(target), g=who
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
