"""The stored, weighted full-text vectors of revision 0015 (`search_vector` on clients, tasks and
notes): the title weighs A, the body B. The generated column and the search function both read
these expressions; `search_vector` is never written by the application."""

from __future__ import annotations

from typing import Literal, LiteralString

from sqlalchemy import Computed

Config = Literal["english", "simple"]
COLUMN: LiteralString = "search_vector"


def weighted(config: Config, title: LiteralString, body: LiteralString) -> LiteralString:
    """setweight(title, A) || setweight(body, B) in one configuration, NULLs as empty text."""
    return (
        "setweight(to_tsvector('" + config + "'::regconfig, COALESCE(" + title + ", '')), 'A')"
        " || setweight(to_tsvector('" + config + "'::regconfig, COALESCE(" + body + ", '')), 'B')"
    )


# table: (expression, configuration). 'simple' keeps names verbatim, 'english' stems prose.
VECTORS: dict[LiteralString, tuple[LiteralString, Config]] = {
    "clients": (weighted("simple", "business_name", "legal_name"), "simple"),
    "tasks": (weighted("english", "title", "description"), "english"),
    "notes": (weighted("english", "title", "content"), "english"),
}


def computed(table: LiteralString) -> Computed:
    """The generated-column clause of `table`'s search_vector."""
    return Computed(VECTORS[table][0], persisted=True)
