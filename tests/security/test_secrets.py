"""Secrets stay out of what the package and its tests print: CLI JSON, health reports, test
failure reports, and the embedded cluster's server log."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db.cli.app import app as cli
from advisoros_db.cluster import Cluster
from advisoros_db.urls import mask
from tests.support import PgDatabase

ROOT = Path(__file__).resolve().parents[2]


def _password(url: str) -> str:
    password = urlsplit(url).password
    assert password, "the test needs URLs that carry a password"
    return unquote(password)


def test_mask_hides_passwords_in_userinfo_query_strings_and_dsns() -> None:
    assert mask("postgresql://u:s3cret@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert (
        mask("postgresql://u@h/db?sslmode=require&password=s3cret")
        == "postgresql://u@h/db?sslmode=require&password=***"
    )
    assert (
        mask("host=h user=u password='s3 cret' dbname=d") == "host=h user=u password=*** dbname=d"
    )
    assert mask("postgresql://h/db") == "postgresql://h/db"


def test_up_json_prints_no_password(db: PgDatabase, tmp_path: Path) -> None:
    env = {
        "ADVISOROS_HOME": str(tmp_path / "unused"),
        "ADVISOROS_DATABASE_URL": db.admin_url,
        "ADVISOROS_APP_DATABASE_URL": db.app_url,
    }
    result = CliRunner().invoke(cli, ["up", "--json"], env=env)
    assert result.exit_code == 0, result.output
    for url in (db.admin_url, db.app_url):
        assert _password(url) not in result.output
    assert '"primary": "postgresql://postgres:***@' in result.output


def test_health_json_masks_a_password_given_in_the_query_string(
    db: PgDatabase, tmp_path: Path
) -> None:
    parts = urlsplit(db.app_url)
    secret = _password(db.app_url)
    in_query = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    in_query += f"?password={secret}"
    env = {
        "ADVISOROS_HOME": str(tmp_path / "unused"),
        "ADVISOROS_DATABASE_URL": db.admin_url,
        "ADVISOROS_APP_DATABASE_URL": in_query,
    }
    result = CliRunner().invoke(cli, ["health", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert secret not in result.output
    assert "password=***" in result.output


FAILING_TEST = """
from tests.secret_scrub import register

SECRET = "scrub-me-{marker}"
register(SECRET)


def test_fails_with_the_secret_everywhere():
    url = "postgresql://postgres:" + SECRET + "@127.0.0.1:5432/db"
    print("connecting to", url)
    assert url == "postgresql://elsewhere", url
"""


def _run_failing_test(tmp_path: Path, *plugin: str) -> tuple[str, str]:
    """Run a test that fails with a registered secret in it; (its output, the secret)."""
    marker = uuid.uuid4().hex
    case = tmp_path / "test_leaky_case.py"
    case.write_text(FAILING_TEST.replace("{marker}", marker))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-l", "-p", "no:cacheprovider", str(case)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout + done.stderr, f"scrub-me-{marker}"


def test_a_failing_test_report_shows_no_server_password(tmp_path: Path) -> None:
    # Unscrubbed, pytest prints the secret in the assertion, the locals and the captured output;
    # the suite's conftest loads the plugin that scrubs every registered server password.
    raw, secret = _run_failing_test(tmp_path)
    assert secret in raw
    scrubbed, secret = _run_failing_test(tmp_path, "-p", "tests.secret_scrub")
    assert secret not in scrubbed
    assert "postgres:***@" in scrubbed


def test_the_server_log_is_private_and_keeps_statement_literals_out(
    cluster: Cluster, db: PgDatabase
) -> None:
    for status in cluster.status():
        mode = stat.S_IMODE(status.log_file.stat().st_mode)
        assert mode & 0o077 == 0, f"{status.log_file} is mode {mode:o}"
    secret = f"log-secret-{uuid.uuid4().hex}"
    missing = f"missing_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(db.app_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute(f"SELECT '{secret}' FROM {missing}")  # type: ignore[arg-type]
        # A slow statement is logged (log_min_duration_statement) without its bind parameters.
        conn.execute("SELECT pg_sleep(1.1), %s::text", (secret,))
    log = cluster.node("primary").log_file
    deadline = time.monotonic() + 120
    while missing not in log.read_text(errors="replace") or "pg_sleep" not in log.read_text(
        errors="replace"
    ):
        assert time.monotonic() < deadline, "the server never logged the error and slow statement"
        time.sleep(0.1)
    assert secret not in log.read_text(errors="replace")
