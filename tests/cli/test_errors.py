"""Clear errors, never a traceback: each case runs the real command against real servers and checks
the one-line message, the exit code, and that nothing was changed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db import advisory, partitioning, requirements
from advisoros_db.cli.app import app
from tests.support import PgDatabase


def _run(env: dict[str, str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, list(args))
    # A clean failure is typer's exit, never an exception escaping the command.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def _on(db: PgDatabase) -> dict[str, str]:
    return {"ADVISOROS_DATABASE_URL": db.admin_url, "ADVISOROS_APP_DATABASE_URL": db.app_url}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://someone:secret@127.0.0.1:{_free_port()}/advisoros"
    code, out = _run({"ADVISOROS_DATABASE_URL": url}, monkeypatch, "current")
    assert code == 1
    assert "cannot reach the database server" in out and "ADVISOROS_DATABASE_URL" in out
    assert "secret" not in out


def test_wrong_password(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = urlsplit(db.admin_url)
    assert parts.password
    wrong = db.admin_url.replace(f":{parts.password}@", ":not-the-password@", 1)
    code, out = _run({"ADVISOROS_DATABASE_URL": wrong}, monkeypatch, "current")
    assert code == 1
    assert "the server refused the login" in out and "password" in out
    assert "not-the-password" not in out


def test_bad_settings_values(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run({**_on(db), "ADVISOROS_POOL_MAX_SIZE": "lots"}, monkeypatch, "current")
    assert code == 1
    assert "ADVISOROS_POOL_MAX_SIZE (got 'lots')" in out
    code, out = _run(
        {**_on(db), "ADVISOROS_POOL_MAX_SIZE": "10", "ADVISOROS_PGBOUNCER": "maybe"},
        monkeypatch,
        "current",
    )
    assert code == 1
    assert "ADVISOROS_PGBOUNCER (got 'maybe')" in out and "'auto'" in out


def test_server_requirements_are_checked_at_connect(db: PgDatabase) -> None:
    found = requirements.facts(db.admin_url)
    assert found.version_num >= requirements.MIN_SERVER_VERSION_NUM and found.has_pgvector
    requirements.check(db.admin_url)  # the test server meets them
    # The same server's answers, as an older server without pgvector would give them.
    older = requirements.ServerFacts(170004, "17.4", has_pgvector=False)
    said = " ".join(requirements.problems(older))
    assert "PostgreSQL 17.4; advisoros-db needs PostgreSQL 18 or later" in said
    assert "no pgvector extension" in said


def test_out_of_range_keep_months(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    before = partitioning.stats(db.admin_url)
    code, out = _run(_on(db), monkeypatch, "partitions", "archive", "--keep-months", "999999999999")
    assert code == 2
    flat = " ".join(out.replace("│", " ").split())
    assert "--keep-months': Input should be less than or equal to 1200" in flat
    with pytest.raises(partitioning.ArchiveError, match="at most 1200"):
        partitioning.archive(db.admin_url, keep_months=999_999_999_999)
    assert partitioning.stats(db.admin_url) == before


def test_export_folder_that_cannot_be_created(
    db: PgDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    before = partitioning.stats(db.admin_url)
    code, out = _run(
        _on(db),
        monkeypatch,
        "partitions",
        "archive",
        "--keep-months",
        "0",
        "--export",
        str(blocker / "exports"),
    )
    assert code == 1
    assert f"cannot write exports to {blocker / 'exports'}" in out
    assert "Nothing was detached" in out
    assert partitioning.stats(db.admin_url) == before


def _conversions(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM partitioning.conversions ORDER BY 1").fetchall()


def test_a_second_convert_is_refused(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _conversions(db.admin_url)
    # Deterministic: the test holds the lock a first `partitions convert documents` would hold.
    with advisory.holding(db.admin_url, "advisoros_db.partitions.convert.documents") as got:
        assert got
        code, out = _run(_on(db), monkeypatch, "partitions", "convert", "documents")
    assert code == 1
    assert "another `partitions convert/rollback/finalize documents` is running" in out
    assert _conversions(db.admin_url) == before


def test_invalid_utf8_input(db: PgDatabase) -> None:
    # A real command line with bytes that are not UTF-8, as a shell would pass them.
    env = {**os.environ, **_on(db)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "advisoros_db.cli.app",
            "search",
            "text",
            b"tax \xff\xfe return",
            "--org",
            str(uuid.uuid4()),
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 1, err
    assert "not valid UTF-8" in err
    assert "Traceback" not in err
