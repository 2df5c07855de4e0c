"""No server starts by surprise: only `up`, commands given `--embedded`, and tests start one;
`health` reports what it finds; the library needs a configured URL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisoros_db.cli.app import app
from advisoros_db.cluster import Cluster
from advisoros_db.cluster.node import postmaster_pid
from advisoros_db.routing import Router
from advisoros_db.settings import Settings
from advisoros_db.targets import NoDatabaseConfigured
from advisoros_db.tenancy import APP_ROLE
from tests.support import scratch_path


def _env(home: Path) -> dict[str, str]:
    # An empty value unsets the URL for pydantic-settings just as an absent variable does.
    return {"ADVISOROS_HOME": str(home), "ADVISOROS_EMBEDDED_REPLICAS": "0", "COLUMNS": "200"}


def _unset_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "APP_DATABASE_URL", "READ_REPLICA_URLS", "DR_URL"):
        monkeypatch.delenv(f"ADVISOROS_{name}", raising=False)


def test_the_library_never_starts_a_cluster(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(NoDatabaseConfigured, match="ADVISOROS_DATABASE_URL"):
        Router.from_settings(Settings(home=home, database_url=None))
    assert not home.exists(), "nothing was created"


@pytest.mark.parametrize(
    "args", [["current"], ["migrate"], ["health"], ["search", "text", "x", "--org", "o"]]
)
def test_commands_without_a_url_or_a_running_cluster_say_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    _unset_urls(monkeypatch)
    home = tmp_path / "home"
    result = CliRunner().invoke(app, args, env=_env(home))
    assert result.exit_code != 0
    assert "no database configured" in result.output and "advisoros-db up" in result.output
    assert "Traceback" not in result.output
    assert not (home / "cluster.json").exists(), "no cluster was created"


@pytest.fixture
def stopped_cluster(cluster: Cluster) -> Iterator[Cluster]:
    own = Cluster(scratch_path("advisoros-surprise-") / "home", app_role=APP_ROLE)
    try:
        own.up(0)
        own.stop_node("primary")
        yield own
    finally:
        own.destroy()


def test_health_reports_a_stopped_primary_and_leaves_it_stopped(
    stopped_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unset_urls(monkeypatch)
    env = _env(stopped_cluster.home)
    for args in (["health", "--json"], ["--embedded", "health", "--json"]):
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 1, result.output
        report = json.loads(result.stdout)
        assert report["primary"]["available"] is False
        assert report["nodes"][0]["reachable"] is False
        assert postmaster_pid(stopped_cluster.node("primary")) is None, "not restarted"


def test_other_commands_refuse_a_stopped_cluster_unless_given_embedded(
    stopped_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unset_urls(monkeypatch)
    env = _env(stopped_cluster.home)
    refused = CliRunner().invoke(app, ["current"], env=env)
    assert refused.exit_code != 0 and "is stopped" in refused.output, refused.output
    assert postmaster_pid(stopped_cluster.node("primary")) is None
    started = CliRunner().invoke(app, ["--embedded", "current", "--json"], env=env)
    assert started.exit_code == 0, started.output
    assert postmaster_pid(stopped_cluster.node("primary")) is not None, "--embedded started it"
