"""What the generator needs to know about a live table: columns, allowed values, keys, partitioning."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, LiteralString

import psycopg

COLUMNS_SQL: LiteralString = """
SELECT a.attname,
       format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END::int,
       t.typname,
       t.typtype,
       a.attnotnull,
       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' AS has_default,
       a.attgenerated <> '' AS generated,
       COALESCE((SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
                   FROM pg_enum e WHERE e.enumtypid = a.atttypid), '{}'),
       COALESCE(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = %(rel)s::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""

CONSTRAINTS_SQL: LiteralString = """
SELECT c.contype,
       c.conname,
       pg_get_constraintdef(c.oid),
       ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       cf.relname,
       ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
  FROM pg_constraint c
  LEFT JOIN pg_class cf ON cf.oid = c.confrelid
 WHERE c.conrelid = %(rel)s::regclass AND c.contype IN ('c', 'f', 'p', 'u')
 ORDER BY c.conname
"""

# Unique indexes that back no constraint (partial ones included: deduplicating rows on their
# columns regardless of the predicate is stricter than needed, never looser).
UNIQUE_INDEXES_SQL: LiteralString = """
SELECT ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, i)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.i)
  FROM pg_index x
 WHERE x.indrelid = %(rel)s::regclass AND x.indisunique AND NOT (0 = ANY (x.indkey))
   AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
"""

TABLES_SQL: LiteralString = """
SELECT c.relname, c.relkind = 'p'
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND c.relname <> 'alembic_version'
 ORDER BY c.relname
"""

# `status = ANY (ARRAY['a'::text, 'b'::text])` and `status IN ('a', 'b')` as pg_get_constraintdef
# prints them; anything more complex is left for the server to enforce.
_ANY_ARRAY = re.compile(r"\(\(?\(?(\w+)\)?(?:::\w+)?\)? = ANY \(\(?ARRAY\[(.*?)\]")
_LITERAL = re.compile(r"'((?:[^']|'')*)'")
# `((x >= (0)::numeric) AND (x <= (1)::numeric))`: BETWEEN as pg_get_constraintdef prints it.
_RANGE = re.compile(r"\(\((\w+) >=? \(?(-?[\d.]+)\)?(?:::[\w ]+)?\) AND \(\1 <=? \(?(-?[\d.]+)\)?")
VOLATILE = ("now()", "CURRENT_", "clock_timestamp", "random", "gen_random_uuid", "uuidv7")
_PRECISION = re.compile(r"numeric\((\d+),(\d+)\)")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    oid: int
    typname: str
    is_enum: bool
    not_null: bool
    has_default: bool
    generated: bool
    enum_labels: tuple[str, ...]
    default: str = ""

    @property
    def volatile_default(self) -> bool:
        """A default that differs per run (now(), random ids): generated instead, for determinism."""
        return any(f in self.default for f in VOLATILE)


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass
class TableInfo:
    """One table of the target schema as the server describes it."""

    schema: str
    name: str
    partitioned: bool
    columns: dict[str, Column]
    primary_key: tuple[str, ...] = ()
    unique: list[tuple[str, ...]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def value_range(self, column: str) -> tuple[float, float]:
        """Bounds generic numbers stay within: the CHECK range, capped by numeric precision."""
        lo, hi = self.ranges.get(column, (1.0, 100.0))
        precision = _PRECISION.search(self.columns[column].type)
        if precision:
            hi = min(hi, 10.0 ** (int(precision.group(1)) - int(precision.group(2))) - 1)
        return lo, max(lo, hi)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def allowed_values(self, column: str) -> tuple[str, ...]:
        col = self.columns[column]
        if col.enum_labels:
            return col.enum_labels
        return self.allowed.get(column, ())

    def fk_for(self, column: str) -> ForeignKey | None:
        """The foreign key that `column` is the non-tenant part of, if any."""
        for fk in self.foreign_keys:
            if column in fk.columns and fk.columns[-1] == column:
                return fk
        for fk in self.foreign_keys:
            if column in fk.columns and column != "organization_id":
                return fk
        return None


def parse_allowed(definition: str) -> tuple[str, tuple[str, ...]] | None:
    """The column and its allowed literals from a CHECK definition, when it is a plain IN list."""
    match = _ANY_ARRAY.search(definition)
    if match is None:
        return None
    values = tuple(v.replace("''", "'") for v in _LITERAL.findall(match.group(2)))
    return (match.group(1), values) if values else None


def describe(conn: psycopg.Connection[Any], table: str, schema: str = "public") -> TableInfo:
    rel = f'"{schema}"."{table}"'
    columns: dict[str, Column] = {}
    for row in conn.execute(COLUMNS_SQL, {"rel": rel}).fetchall():
        name, type_, oid, typname, typtype, not_null, has_default, generated, labels, default = row
        columns[name] = Column(
            name,
            type_,
            oid,
            typname,
            typtype == "e",
            not_null,
            has_default,
            generated,
            tuple(labels),
            default,
        )
    kind = conn.execute(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = %(rel)s::regclass", {"rel": rel}
    ).fetchone()
    partitioned = bool(kind and kind[0])
    info = TableInfo(schema, table, partitioned, columns)
    for contype, conname, definition, cols, parent, parent_cols in conn.execute(
        CONSTRAINTS_SQL, {"rel": rel}
    ).fetchall():
        if contype == "p":
            info.primary_key = tuple(cols)
        elif contype == "u":
            info.unique.append(tuple(cols))
        elif contype == "f":
            info.foreign_keys.append(ForeignKey(conname, tuple(cols), parent, tuple(parent_cols)))
        elif contype == "c":
            parsed = parse_allowed(definition)
            if parsed and parsed[0] in columns:
                info.allowed[parsed[0]] = parsed[1]
            bounds = _RANGE.search(definition)
            if bounds and bounds.group(1) in columns:
                info.ranges[bounds.group(1)] = (float(bounds.group(2)), float(bounds.group(3)))
    for (cols,) in conn.execute(UNIQUE_INDEXES_SQL, {"rel": rel}).fetchall():
        info.unique.append(tuple(cols))
    return info


def tables(conn: psycopg.Connection[Any], schema: str = "public") -> list[str]:
    return [r[0] for r in conn.execute(TABLES_SQL, {"schema": schema}).fetchall()]


def dependency_order(infos: dict[str, TableInfo]) -> list[str]:
    """Parents before children (self-references ignored), ties broken by name for determinism."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen or name in path:
            return
        for fk in infos[name].foreign_keys:
            if fk.parent in infos and fk.parent != name:
                visit(fk.parent, (*path, name))
        seen.add(name)
        order.append(name)

    for name in sorted(infos):
        visit(name, ())
    return order
