"""Tenant-bound ORM relationships: a parent's children, a child's parent, never across tenants.

Every tenant table references its parent by the composite key (organization_id, column) ->
parent(organization_id, id), so the join compares both columns. Only the id column is marked
`foreign()`: organization_id is shared by every parent of a row, and two relationships that both
wrote it would conflict (SQLAlchemy's documented overlapping-foreign-keys pattern). A child's
organization_id is therefore set by the caller, as for any tenant row; the database's composite
key refuses a child whose organization differs from its parent's.

Relationships are lazy (`select`, loaded on first access inside the session; use `selectinload`
for many parents) and add nothing to the schema: they only read the keys that exist.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import relationship


def _join(parent: str, child: str, column: str) -> str:
    return (
        f"and_({parent}.id == foreign({child}.{column}), "
        f"{parent}.organization_id == {child}.organization_id)"
    )


def children(
    child: str, column: str, *, parent: str, back_populates: str, order_by: str | None = None
) -> Any:
    """`parent.<name>`: the list of `child` rows whose `column` points at this parent.

    The database decides what a parent's deletion does to its children (CASCADE or refuse):
    the ORM neither loads them to delete nor nulls their key (`passive_deletes="all"`).
    """
    return relationship(
        child,
        primaryjoin=_join(parent, child, column),
        back_populates=back_populates,
        passive_deletes="all",
        order_by=order_by or False,
    )


def parent_of(parent: str, column: str, *, child: str, back_populates: str) -> Any:
    """`child.<name>`: the `parent` row this child's `column` points at."""
    return relationship(
        parent, primaryjoin=_join(parent, child, column), back_populates=back_populates
    )
