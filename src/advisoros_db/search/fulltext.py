"""Full-text search inside one tenant over documents, clients, tasks, notes and advisor bios:
websearch syntax (never raises), ranking, highlighted snippets, identifiers, type-ahead, fuzzy names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, LiteralString

from psycopg import sql

from advisoros_db.migrations import document_vectors
from advisoros_db.schema import catalog
from advisoros_db.search import queries
from advisoros_db.search.connections import Connection, tenant_transaction
from advisoros_db.search.errors import SearchInputError

Kind = Literal["documents", "clients", "tasks", "notes", "advisors"]
KINDS: tuple[Kind, ...] = ("documents", "clients", "tasks", "notes", "advisors")

# Below this word similarity a client name is not offered as a "did you mean".
FUZZY_THRESHOLD = 0.5
HEADLINE: LiteralString = (
    "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=18, MinWords=6, "
    'FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class Field:
    """One indexed tsvector expression, spelled exactly as its GIN index is, and the query
    configuration it is matched with."""

    vector: LiteralString
    config: Literal["english", "simple"]


@dataclass(frozen=True)
class Target:
    """How one kind is searched: a row matches when any field matches; the score sums the fields'
    ranks (plus trigram similarity for fuzzy names)."""

    table: LiteralString
    title: LiteralString
    body: LiteralString
    fields: tuple[Field, ...]
    live: LiteralString = "true"
    fuzzy: LiteralString | None = None


# Titles weigh A, bodies B: a file named "Q4 2023 Form 941.pdf" outranks a letter that mentions
# Form 941 once. Documents match their stored, weighted `search_vector` (revision 0021: file name A,
# dots and underscores split so "941.pdf" or "2023_W2_Harbor.pdf" yield their words; description
# B; the first TEXT_CHARS characters of the extracted text C) and the file name's `simple` vector.
# A snippet is cut from the description and that same part of the text.
DOCUMENT_SNIPPET: LiteralString = (
    "COALESCE(NULLIF(concat_ws(' — ', description, left(extracted_text, "
    + document_vectors.TEXT_CHARS
    + ")), ''), file_name)"
)

# Clients, tasks and notes match their stored, weighted `search_vector` (revision 0015, title A,
# body B); advisor bios their bio's vector, computed per row (a firm's few profiles, read under
# row-level security): 'simple' keeps names and identifiers verbatim, 'english' stems prose. Identifiers such as EINs, invoice
# numbers and "1040-ES" tokenize the same way under both configurations.
TARGETS: dict[Kind, Target] = {
    "documents": Target(
        table="documents",
        title="file_name",
        body=DOCUMENT_SNIPPET,
        fields=(
            Field("search_vector", "english"),
            Field("to_tsvector('simple'::regconfig, file_name)", "simple"),
        ),
        live="deleted_at IS NULL",
    ),
    "clients": Target(
        table="clients",
        title="business_name",
        body="concat_ws(' · ', business_name, legal_name, industry)",
        fields=(Field("search_vector", "simple"),),
        live="deleted_at IS NULL",
        fuzzy="business_name",
    ),
    "tasks": Target(
        table="tasks",
        title="title",
        body="concat_ws(' — ', title, description)",
        fields=(Field("search_vector", "english"),),
        live="deleted_at IS NULL",
    ),
    "notes": Target(
        table="notes",
        title="COALESCE(title, left(content, 80))",
        body="content",
        fields=(Field("search_vector", "english"),),
        live="deleted_at IS NULL",
    ),
    "advisors": Target(
        table="advisor_profiles",
        title="COALESCE(headline, left(COALESCE(bio, ''), 80))",
        body="COALESCE(bio, '')",
        fields=(Field("to_tsvector('english'::regconfig, bio)", "english"),),
    ),
}


@dataclass(frozen=True)
class TextHit:
    kind: Kind
    id: uuid.UUID
    title: str
    score: float
    snippet: str


def _tsquery(config: str, mode: Literal["websearch", "prefix"]) -> sql.Composable:
    if mode == "prefix":
        return sql.SQL("to_tsquery('simple'::regconfig, %(prefix)s)")
    if config == "simple":
        return sql.SQL("websearch_to_tsquery('simple'::regconfig, %(q)s)")
    return sql.SQL("websearch_to_tsquery('english'::regconfig, %(q)s)")


def _query(target: Target, mode: Literal["websearch", "prefix"]) -> sql.Composed:
    matches = sql.SQL(" OR ").join(
        sql.SQL("{} @@ {}").format(sql.SQL(f.vector), _tsquery(f.config, mode))
        for f in target.fields
    )
    score: sql.Composable = sql.SQL(" + ").join(
        sql.SQL("ts_rank_cd(COALESCE({}, ''), {})").format(
            sql.SQL(f.vector), _tsquery(f.config, mode)
        )
        for f in target.fields
    )
    if target.fuzzy and mode == "websearch":
        column = sql.SQL(target.fuzzy)
        # `<%` (word similarity: the query against the closest run of words in the name, so
        # "Harbr" finds "Harbor Logistics LLC"); the threshold is set per transaction.
        matches = sql.SQL("{} OR %(q)s <%% {}").format(matches, column)
        score = sql.SQL("greatest({}, word_similarity(%(q)s, {}))").format(score, column)
    highlight = sql.SQL(" || ").join(
        _tsquery(config, mode) for config in dict.fromkeys(f.config for f in target.fields)
    )
    return sql.SQL(
        "SELECT id, {title}, {score} AS score,"
        " ts_headline('english'::regconfig, {body}, {highlight}, {options})"
        " FROM {table}"
        " WHERE organization_id = %(org)s AND {live} AND ({matches})"
        " ORDER BY score DESC, id LIMIT %(k)s"
    ).format(
        title=sql.SQL(target.title),
        score=score,
        body=sql.SQL(target.body),
        highlight=highlight,
        options=sql.Literal(HEADLINE),
        table=sql.Identifier(target.table),
        live=sql.SQL(target.live),
        matches=matches,
    )


# Documents go through the SECURITY DEFINER `search_tenant_documents` (revision 0010, on the
# stored vector since 0021): under row-level security no GIN index can serve `@@` for the
# application role, and a plain GIN index would read other tenants' entries; the function uses a
# tenant-keyed one and takes the tenant from the transaction's setting
# (advisoros_db.migrations.tenant_search, document_vectors). Only the `k` rows it returns are
# joined back for their file name and snippet.
_DOCUMENTS_VIA_FUNCTION = sql.SQL(
    "SELECT d.id, d.file_name, m.score,"
    " ts_headline('english'::regconfig, {body}, {highlight}, {options})"
    " FROM search_tenant_documents({english}, {simple}, %(k)s) m"
    " JOIN documents d ON d.organization_id = %(org)s AND d.id = m.id"
    " ORDER BY m.score DESC, m.id"
)


def _documents_query(mode: Literal["websearch", "prefix"]) -> sql.Composed:
    english, simple = _tsquery("english", mode), _tsquery("simple", mode)
    body = DOCUMENT_SNIPPET.replace("description", "d.description")
    body = body.replace("extracted_text", "d.extracted_text").replace("file_name", "d.file_name")
    return _DOCUMENTS_VIA_FUNCTION.format(
        body=sql.SQL(body),
        highlight=sql.SQL("{} || {}").format(english, simple) if mode == "websearch" else english,
        options=sql.Literal(HEADLINE),
        english=english,
        simple=simple,
    )


# Clients, tasks and notes go through revision 0015's `search_tenant_rows` the same way: it
# matches and ranks their stored, weighted `search_vector` (title A, body B) on a tenant-keyed
# index (advisoros_db.migrations.tenant_text_search). Only the `k` rows it returns are joined for
# their title and snippet. Fuzzy client names (`<%`, word similarity) have no tenant-keyed index:
# that branch reads the tenant's clients, the smallest of the searched tables.
ROWS_FUNCTION_KINDS: frozenset[Kind] = frozenset({"clients", "tasks", "notes"})
_ROWS_VIA_FUNCTION = sql.SQL(
    "SELECT t.id, {title}, {score} AS score,"
    " ts_headline('english'::regconfig, {body}, {highlight}, {options})"
    " FROM {table} t {join} search_tenant_rows({kind}, {english}, {simple}, %(k)s) m ON m.id = t.id"
    " WHERE t.organization_id = %(org)s AND {live}"
    " ORDER BY score DESC, t.id LIMIT %(k)s"
)


def _rows_query(kind: Kind, mode: Literal["websearch", "prefix"]) -> sql.Composed:
    target = TARGETS[kind]
    english, simple = _tsquery("english", mode), _tsquery("simple", mode)
    score: sql.Composable = sql.SQL("m.score")
    join = sql.SQL("JOIN")
    live: sql.Composable = sql.SQL(target.live)
    if target.fuzzy and mode == "websearch":
        name = sql.SQL("t.{}").format(sql.Identifier(target.fuzzy))
        score = sql.SQL("greatest(COALESCE(m.score, 0), word_similarity(%(q)s, {}))").format(name)
        join = sql.SQL("LEFT JOIN")
        live = sql.SQL("{} AND (m.id IS NOT NULL OR %(q)s <%% {})").format(live, name)
    config = english if kind != "clients" else simple
    return _ROWS_VIA_FUNCTION.format(
        title=sql.SQL(target.title),
        score=score,
        body=sql.SQL(target.body),
        highlight=config,
        options=sql.Literal(HEADLINE),
        table=sql.Identifier(target.table),
        join=join,
        kind=sql.Literal(kind),
        english=english,
        simple=simple,
        live=live,
    )


def statement(kind: Kind, mode: Literal["websearch", "prefix"]) -> sql.Composed:
    """The query `search_text` runs for one kind (parameters q or prefix, k, org)."""
    if kind == "documents":
        return _documents_query(mode)
    if kind in ROWS_FUNCTION_KINDS:
        return _rows_query(kind, mode)
    return _query(TARGETS[kind], mode)


def search_text(
    conn: Connection,
    organization_id: uuid.UUID | str,
    text: str,
    *,
    kinds: tuple[Kind, ...] | list[Kind] = ("documents",),
    k: int = 10,
    prefix: bool = False,
) -> list[TextHit]:
    """The best `k` matches for `text` in one tenant, best first, over the chosen kinds.

    Anything a user types is accepted (websearch syntax; punctuation-only finds nothing).
    `prefix=True` treats the last word as a prefix, for type-ahead.
    """
    cleaned = queries.clean_query(text)
    k = queries.check_k(k)
    unknown = [kind for kind in kinds if kind not in TARGETS]
    if unknown or not kinds:
        raise SearchInputError(
            f"cannot search in {unknown or 'nothing'}; choose from {', '.join(KINDS)}"
        )
    params: dict[str, object] = {"q": cleaned, "k": k}
    if prefix:
        params["prefix"] = queries.prefix_tsquery(cleaned)
        if params["prefix"] is None:
            return []
    hits: list[TextHit] = []
    with tenant_transaction(conn, organization_id) as org:
        params["org"] = org
        conn.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            (str(FUZZY_THRESHOLD),),
        )
        for kind in dict.fromkeys(kinds):
            mode: Literal["websearch", "prefix"] = "prefix" if prefix else "websearch"
            for row in conn.execute(statement(kind, mode), params).fetchall():
                hits.append(TextHit(kind, row[0], row[1] or "", float(row[2]), row[3] or ""))
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[:k]


def clients_containing(
    conn: Connection, organization_id: uuid.UUID | str, fragment: str, *, k: int = 10
) -> list[tuple[uuid.UUID, str]]:
    """Clients of one tenant whose business name contains `fragment` (type-ahead): the first `k`
    by name of the catalog's first page (the 50 newest matches).

    The fragment is text, escaped into a pattern before it reaches the server (a trailing
    backslash can never become the pattern's escape character), and the catalog query reads only
    the tenant's own rows (revision 0021's `search_tenant_contains`, under row-level security).
    """
    pattern = queries.check_like_pattern(queries.contains_pattern(fragment))
    k = queries.check_k(k)
    query = catalog.get("clients.name_contains")
    by_name = sql.SQL(
        "SELECT id, business_name FROM ({}) page ORDER BY business_name, id LIMIT %(k)s"
    )
    with tenant_transaction(conn, organization_id) as org:
        rows = conn.execute(
            by_name.format(sql.SQL(query.sql)),
            {"organization_id": org, "pattern": pattern, "before": catalog.PAGE_START, "k": k},
        ).fetchall()
    return [(row[0], row[1]) for row in rows]
