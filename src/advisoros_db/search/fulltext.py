"""Full-text search inside one tenant over documents, clients, tasks, notes and advisor bios:
websearch syntax (never raises), ranking, highlighted snippets, identifiers, type-ahead, fuzzy names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, LiteralString

from psycopg import sql

from advisoros_db.search import queries
from advisoros_db.search.errors import SearchInputError
from advisoros_db.search.session import Connection, tenant_transaction

Kind = Literal["documents", "clients", "tasks", "notes", "advisors"]
KINDS: tuple[Kind, ...] = ("documents", "clients", "tasks", "notes", "advisors")

# Below this trigram similarity a client name is not offered as a "did you mean".
FUZZY_THRESHOLD = 0.3
_HEADLINE: LiteralString = (
    "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=18, MinWords=6, "
    'FragmentDelimiter=" … "'
)


@dataclass(frozen=True)
class Target:
    """How one kind is searched. `english` is stemmed prose; `simple` keeps identifiers verbatim
    (EINs, invoice numbers, "1040-ES"), so a query matches either."""

    table: LiteralString
    title: LiteralString
    body: LiteralString
    english: LiteralString
    simple: LiteralString
    live: LiteralString = "true"
    fuzzy: LiteralString | None = None


TARGETS: dict[Kind, Target] = {
    # Titles weigh A, bodies B: a file named "Q4 2023 Form 941.pdf" outranks a letter that
    # mentions Form 941 once. Dots and underscores become spaces, else the parser reads
    # "941.pdf" or "2023_W2_Harbor.pdf" as one file-name token and no word in it matches.
    "documents": Target(
        table="documents",
        title="file_name",
        body="coalesce(extracted_text, file_name)",
        english="(setweight(to_tsvector('english', translate(coalesce(file_name, ''), '._', '  ')), 'A')"
        " || setweight(to_tsvector('english', coalesce(extracted_text, '')), 'B'))",
        simple="(setweight(to_tsvector('simple', translate(coalesce(file_name, ''), '._', '  ')), 'A')"
        " || setweight(to_tsvector('simple', coalesce(extracted_text, '')), 'B'))",
        live="deleted_at IS NULL",
    ),
    "clients": Target(
        table="clients",
        title="business_name",
        body="concat_ws(' · ', business_name, legal_name, industry)",
        english="to_tsvector('english', coalesce(business_name, '') || ' ' || coalesce(legal_name, ''))",
        simple="to_tsvector('simple', coalesce(business_name, '') || ' ' || coalesce(legal_name, '')"
        " || ' ' || coalesce(tax_id, ''))",
        live="deleted_at IS NULL",
        fuzzy="business_name",
    ),
    "tasks": Target(
        table="tasks",
        title="title",
        body="concat_ws(' — ', title, description)",
        english="(setweight(to_tsvector('english', coalesce(title, '')), 'A')"
        " || setweight(to_tsvector('english', coalesce(description, '')), 'B'))",
        simple="to_tsvector('simple', coalesce(title, ''))",
        live="deleted_at IS NULL",
    ),
    "notes": Target(
        table="notes",
        title="coalesce(title, left(content, 80))",
        body="content",
        english="(setweight(to_tsvector('english', coalesce(title, '')), 'A')"
        " || setweight(to_tsvector('english', coalesce(content, '')), 'B'))",
        simple="to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(content, ''))",
        live="deleted_at IS NULL",
    ),
    "advisors": Target(
        table="advisor_profiles",
        title="coalesce(headline, left(coalesce(bio, ''), 80))",
        body="coalesce(bio, '')",
        english="(setweight(to_tsvector('english', coalesce(headline, '')), 'A')"
        " || setweight(to_tsvector('english', coalesce(bio, '')), 'B'))",
        simple="to_tsvector('simple', coalesce(headline, '') || ' ' || coalesce(bio, ''))",
    ),
}


@dataclass(frozen=True)
class TextHit:
    kind: Kind
    id: uuid.UUID
    title: str
    score: float
    snippet: str


def _query(target: Target, mode: Literal["websearch", "prefix"]) -> sql.Composed:
    if mode == "prefix":
        english_q = sql.SQL("to_tsquery('simple', %(prefix)s)")
        simple_q = english_q
    else:
        english_q = sql.SQL("websearch_to_tsquery('english', %(q)s)")
        simple_q = sql.SQL("websearch_to_tsquery('simple', %(q)s)")
    matches = sql.SQL("({en} @@ {enq} OR {si} @@ {siq})").format(
        en=sql.SQL(target.english), enq=english_q, si=sql.SQL(target.simple), siq=simple_q
    )
    score = sql.SQL("(ts_rank_cd({en}, {enq}) + ts_rank_cd({si}, {siq}))").format(
        en=sql.SQL(target.english), enq=english_q, si=sql.SQL(target.simple), siq=simple_q
    )
    if target.fuzzy and mode == "websearch":
        column = sql.SQL(target.fuzzy)
        # `%` uses the pg_trgm index; the threshold is set per transaction with set_limit's GUC.
        matches = sql.SQL("({} OR {} %% %(q)s)").format(matches, column)
        score = sql.SQL("greatest({}, similarity({}, %(q)s))").format(score, column)
    return sql.SQL(
        "SELECT id, {title}, {score} AS score,"
        " ts_headline('english', {body}, {enq} || {siq}, {options})"
        " FROM {table}"
        " WHERE organization_id = %(org)s AND {live} AND {matches}"
        " ORDER BY score DESC, id LIMIT %(k)s"
    ).format(
        title=sql.SQL(target.title),
        score=score,
        options=sql.Literal(_HEADLINE),
        body=sql.SQL(target.body),
        enq=english_q,
        siq=simple_q,
        table=sql.Identifier(target.table),
        live=sql.SQL(target.live),
        matches=matches,
    )


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
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)", (str(FUZZY_THRESHOLD),)
        )
        for kind in dict.fromkeys(kinds):
            query = _query(TARGETS[kind], "prefix" if prefix else "websearch")
            for row in conn.execute(query, params).fetchall():
                hits.append(TextHit(kind, row[0], row[1] or "", float(row[2]), row[3] or ""))
    hits.sort(key=lambda hit: hit.score, reverse=True)
    return hits[:k]
