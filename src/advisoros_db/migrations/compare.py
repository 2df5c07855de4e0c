"""What Alembic's model/database comparison looks at, in one place: public-schema tables of the
models, not partitions, not other schemas, not Alembic's own version table."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text

from advisoros_db.partitioning import layout as partition_layout

VERSION_TABLE = "alembic_version"
SCHEMAS: frozenset[str | None] = frozenset({None, "public"})

# Other engineers add names here (e.g. helper tables the partitioning code keeps in public).
IGNORED_TABLES: set[str] = {VERSION_TABLE}

_PARTITIONS = text("SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p')")

# Alembic cannot compare expression indexes (full-text ones, for example) and says so with a
# warning; the test suite turns warnings into errors, so the comparison silences exactly these.
_SKIPPED_INDEX_WARNINGS = (
    r".*expression-based index.*",
    r".*[Ss]kipped unsupported reflection of expression-based index.*",
    r".*autogenerate skipping.*",
)


def partitions(connection: Connection) -> set[str]:
    """Names of every partition in the database (they belong to their parent, not the models)."""
    return {str(row[0]) for row in connection.execute(_PARTITIONS)}


def include_name_for(connection: Connection) -> Any:
    """An Alembic `include_name` hook bound to this database's current partitions."""
    skipped = IGNORED_TABLES | partitions(connection) | partition_layout.kept_tables()

    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if type_ == "schema":
            return name in SCHEMAS
        if type_ == "table":
            return name not in skipped
        return True

    return include_name


def compare_options(connection: Connection) -> dict[str, Any]:
    """The `context.configure` keywords every comparison uses (env.py and `check`)."""
    return {
        "include_name": include_name_for(connection),
        "include_schemas": False,
        "compare_type": True,
        "compare_server_default": False,
    }


@contextmanager
def quiet_expression_indexes() -> Iterator[None]:
    """Silence only Alembic's notices about expression indexes it cannot compare."""
    with warnings.catch_warnings():
        for pattern in _SKIPPED_INDEX_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern, category=UserWarning)
        yield
