"""The hot-path query catalog: every query the application runs on a hot path, as parameterised SQL,
with the index it relies on. No index without a query: each 0003 index is named here.

The queries are data, `schema/queries/*.sql`, read once at import: each is a block of `-- key:`
headers (name, purpose, index, params, flags) and its SQL (the format is described at the top of
`queries/composite.sql`). The values a query's parameters take from a populated database are the
caller's: `advisoros_db.bench.sampling` draws them for the benchmark and the tests."""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from string import Template
from typing import Any, LiteralString

from advisoros_db.errors import AdvisorOSError

# The files in the order their queries are listed (the benchmark reports them in this order).
FILES = ("composite", "partial", "filters", "fulltext", "covering", "unique")

# The first page of a keyset-paginated list: every uuidv7 id sorts below it. The next page passes
# the last id shown as `before`.
PAGE_START = uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff")

# The search functions of revision 0022: each returns one page of the tenant's ids (below
# `before`, newest first), which the catalog query reads back under row-level security.
SEARCH_FUNCTIONS = ("search_tenant_text(", "search_tenant_contains(")


def is_search(query: CatalogQuery) -> bool:
    """Whether `query` pages through a tenant search function (revision 0022): its index is used
    inside the function, so EXPLAIN of the query itself shows only the tenant key."""
    return any(f in query.sql for f in SEARCH_FUNCTIONS)


# How every filter page ends: the keyset condition, the order and the page size.
PAGE_TAIL = " AND id < %(before)s ORDER BY id DESC LIMIT 50"
FILTER_FUNCTIONS = ("jsonb_contains", "arraycontains", "arrayoverlap")
FLAGS = ("system", "custom_plan")


class CatalogError(AdvisorOSError):
    """A catalog query file is malformed; the message names the file, the line and the fix."""


class UnknownQuery(AdvisorOSError, KeyError):
    """A catalog query name that does not exist."""


class MissingValue(AdvisorOSError, KeyError):
    """`CatalogQuery.bind` was not given a value the query names."""


@dataclass(frozen=True)
class CatalogQuery:
    """One hot-path query: `sql` takes `bind(values)`; `index` is the index its plan must use."""

    name: str
    purpose: str
    sql: LiteralString
    index: str
    sampled: tuple[str, ...] = ()
    """The parameters whose values the caller supplies (real ids of a populated database, the page)."""
    fixed: Mapping[str, Any] = field(default_factory=dict, hash=False)
    """The parameters with a value of their own; `$name` in a string is a supplied value."""
    system: bool = False
    """True for worker and scheduler queries that read every tenant (a privileged role, not RLS)."""
    custom_plan: bool = False
    """True when a cached generic plan is wrong for it, so callers run it unprepared (psycopg
    `prepare=False`) and the server plans every execution with its values. PostgreSQL switches a
    prepared statement to a generic plan after five executions when that plan's estimated cost
    is no worse; for a query whose right plan depends on how many rows its values match (one hot
    entity against the average one), the average wins the estimate and loses at run time."""

    @property
    def needs(self) -> tuple[str, ...]:
        """Every value `bind` takes from its argument: the sampled ones, then those templates name."""
        named = [
            n
            for v in self.fixed.values()
            if isinstance(v, str)
            for n in Template(v).get_identifiers()
        ]
        return tuple(dict.fromkeys([*self.sampled, *named]))

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The query's parameters: the sampled ones taken from `values`, then the fixed ones."""
        missing = [name for name in self.needs if name not in values]
        if missing:
            raise MissingValue(
                f"catalog query {self.name!r} needs a value for {', '.join(missing)}; "
                "pass every name in its `needs` (advisoros_db.bench.sampling draws them)"
            )
        bound = {name: values[name] for name in self.sampled}
        for name, value in self.fixed.items():
            templated = isinstance(value, str) and "$" in value
            bound[name] = Template(value).substitute(values) if templated else value
        return bound


def is_page(query: CatalogQuery) -> bool:
    """Whether `query` is a keyset-paginated filter page."""
    return query.sql.endswith(PAGE_TAIL)


_HEADER = re.compile(r"--\s*(\w+):\s?(.*)$")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_KEYS = ("name", "purpose", "index", "params", "flags")
_REQUIRED = ("name", "purpose", "index", "params")


def _params(text: str, where: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """`a, b, key=literal, ...`: the sampled names, then the fixed values (Python literals)."""
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            raise ValueError("not a list of parameters")
        sampled: list[str] = []
        for arg in call.args:
            if not isinstance(arg, ast.Name):
                raise ValueError(f"{ast.unparse(arg)} is not a name")
            sampled.append(arg.id)
        fixed: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is None:
                raise ValueError("** is not allowed")
            fixed[keyword.arg] = ast.literal_eval(keyword.value)
        names = [*sampled, *(k.arg for k in call.keywords)]
        if len(names) != len(set(names)):
            raise ValueError("a name is given twice")
    except (SyntaxError, ValueError) as e:
        raise CatalogError(
            f"{where}: bad `-- params: {text}` ({e}); write the supplied values' names, then "
            "fixed values as key=literal, e.g. `-- params: organization_id, status='active'`"
        ) from None
    for name, value in fixed.items():
        if isinstance(value, str) and not Template(value).is_valid():
            raise CatalogError(f"{where}: {name}={value!r} has a bad $name (write $$ for a $)")
    return tuple(sampled), fixed


def _query(headers: dict[str, str], body: list[str], where: str) -> CatalogQuery:
    missing = [key for key in _REQUIRED if key not in headers]
    if missing:
        raise CatalogError(f"{where}: the query has no `-- {missing[0]}:` header")
    if not body:
        raise CatalogError(f"{where}: query {headers['name']!r} has no SQL")
    for line in body:
        # Lines are joined into one: a comment would swallow the rest, a ; end it early.
        if "--" in line or ";" in line:
            raise CatalogError(
                f"{where}: query {headers['name']!r} has `--` or `;` in its SQL line {line!r}; "
                "put comments on their own line and end a query without a semicolon"
            )
    sql = " ".join(body)
    sampled, fixed = _params(headers["params"], where)
    declared = {*sampled, *fixed}
    used = set(_PLACEHOLDER.findall(sql))
    if declared != used:
        raise CatalogError(
            f"{where}: query {headers['name']!r} uses parameters {sorted(used)} but `-- params:` "
            f"declares {sorted(declared)}; declare each %(name)s of the SQL once"
        )
    flags = [f.strip() for f in headers.get("flags", "").split(",") if f.strip()]
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise CatalogError(f"{where}: unknown flag {unknown[0]!r}; known flags: {', '.join(FLAGS)}")
    return CatalogQuery(
        name=headers["name"],
        purpose=headers["purpose"],
        # A LiteralString: the package's own files, never input, as trusted as a literal in the
        # source (mypy checks LiteralString as str, so no cast is needed to say so).
        sql=sql,
        index=headers["index"],
        sampled=sampled,
        fixed=fixed,
        system="system" in flags,
        custom_plan="custom_plan" in flags,
    )


def parse(text: str, source: str) -> list[CatalogQuery]:
    """The queries of one catalog file's `text` (`source` names it in errors)."""
    blocks: list[tuple[int, dict[str, str], list[str]]] = []
    in_headers = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        header = _HEADER.match(line)
        key = header.group(1) if header else ""
        if header and key == "name":
            blocks.append((number, {"name": header.group(2).strip()}, []))
            in_headers = True
        elif header and key in _KEYS:
            headers = blocks[-1][1] if blocks else {}
            if not in_headers or key in headers:
                raise CatalogError(
                    f"{source} line {number}: `-- {key}:` must come once, in the headers right "
                    "after `-- name:` (before any comment or SQL line of the query)"
                )
            headers[key] = header.group(2).strip()
        elif in_headers and header:
            raise CatalogError(
                f"{source} line {number}: unknown header `-- {key}:`; "
                f"the headers are {', '.join(_KEYS)}"
            )
        elif not line or line.startswith("--"):
            in_headers = False
        elif not blocks:
            raise CatalogError(f"{source} line {number}: SQL before the first `-- name:` header")
        else:
            in_headers = False
            blocks[-1][2].append(line)
    return [_query(headers, body, f"{source} line {start}") for start, headers, body in blocks]


def load(folder: Traversable | None = None) -> tuple[CatalogQuery, ...]:
    """Every query of the catalog files (the package's own by default), in `FILES` order."""
    folder = folder or resources.files("advisoros_db.schema").joinpath("queries")
    present = {p.name for p in folder.iterdir() if p.name.endswith(".sql")}
    unlisted = sorted(present - {f"{name}.sql" for name in FILES})
    if unlisted:
        raise CatalogError(f"catalog files not in catalog.FILES, so never read: {unlisted}")
    queries = [
        q
        for name in FILES
        for q in parse(folder.joinpath(f"{name}.sql").read_text(), f"queries/{name}.sql")
    ]
    seen: set[str] = set()
    for q in queries:
        if q.name in seen:
            raise CatalogError(f"catalog query {q.name!r} is declared twice; names are unique")
        seen.add(q.name)
    return tuple(queries)


QUERIES: tuple[CatalogQuery, ...] = load()


def get(name: str) -> CatalogQuery:
    """The catalog query called `name`."""
    for query in QUERIES:
        if query.name == name:
            return query
    known = ", ".join(q.name for q in QUERIES)
    raise UnknownQuery(f"no catalog query {name!r}; known queries: {known}")


def for_index(index: str) -> Iterator[CatalogQuery]:
    """The catalog queries that rely on `index`."""
    return (q for q in QUERIES if q.index == index)
