"""The health report has one casing and a documented JSON schema (docs/health.schema.json), and
`status --json`, `health --json` and `/api/health` agree on every field they share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from advisoros_db.cli.app import app as cli
from advisoros_db.cluster import Cluster
from advisoros_db.embedded import existing
from advisoros_db.http import create_app
from advisoros_db.routing import Router, RouterOptions
from advisoros_db.routing.report import health_status
from advisoros_db.settings import Settings
from tests.http.test_health_app import get
from tests.routing.test_decisions import healthy_snapshot

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "health.schema.json").read_text())
# Measurements taken at each probe: two reports a moment apart may differ in these.
MEASURED = {
    "latency_ms",
    "latency_p95_ms",
    "lag_seconds",
    "replication_lag_ms",
    "replay_lsn",
    "probe_age_s",
    "probe_rounds",
    "usable_for_reads",
    "available",
    "reads_on_primary",
}


def validate(report: dict[str, Any]) -> None:
    jsonschema.validate(report, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_the_schema_is_valid_and_describes_the_report() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validate(health_status(healthy_snapshot(), 5.0))


def test_the_schema_rejects_another_casing_or_an_undocumented_key() -> None:
    report = health_status(healthy_snapshot(), 5.0)
    camel = {**report, "primary": {"isHealthy": True, "latencyMs": 1.0, "node": "primary"}}
    with pytest.raises(jsonschema.ValidationError):
        validate(camel)
    undocumented = {**report, "nodes": [{**report["nodes"][0], "newField": 1}]}
    with pytest.raises(jsonschema.ValidationError):
        validate(undocumented)


@pytest.fixture
def embedded_env(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The session's embedded cluster, found through ADVISOROS_HOME as a user's would be."""
    for name in ("DATABASE_URL", "APP_DATABASE_URL", "READ_REPLICA_URLS", "DR_URL"):
        monkeypatch.delenv(f"ADVISOROS_{name}", raising=False)
    return {"ADVISOROS_HOME": str(cluster.home)}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in MEASURED}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def test_status_health_and_the_endpoint_agree(
    cluster: Cluster, embedded_env: dict[str, str]
) -> None:
    runner = CliRunner()
    status = runner.invoke(cli, ["status", "--json"], env=embedded_env)
    assert status.exit_code == 0, status.output
    health = runner.invoke(cli, ["health", "--json"], env=embedded_env)
    assert health.exit_code == 0, health.output
    from_cli = json.loads(health.output)
    target = existing(Settings(home=cluster.home))
    assert target is not None
    with Router.for_target(target, RouterOptions(), monitor=False) as router:
        response = get(create_app(router), "/api/health")
    assert response.status_code == 200
    from_http = response.json()
    for report in (from_cli, from_http):
        validate(report)

    # health --json and /api/health: the same report (the CLI adds rollback windows and leaves
    # out counters), equal in everything that is not a fresh measurement.
    shared = (set(from_cli) & set(from_http)) - MEASURED
    assert shared >= {"primary", "nodes", "warnings", "fenced", "newest_timeline"}
    for key in shared:
        assert _stable(from_cli[key]) == _stable(from_http[key]), key

    # status --json and the health reports: each node's shared fields agree.
    by_name = {n["name"]: n for n in json.loads(status.output)["nodes"]}
    for report in (from_cli, from_http):
        assert {n["name"] for n in report["nodes"]} == set(by_name)
        for node in report["nodes"]:
            theirs = by_name[node["name"]]
            common = (set(node) & set(theirs)) - MEASURED
            assert common >= {"name", "port", "in_recovery", "replay_paused"}, common
            assert {k: node[k] for k in common} == {k: theirs[k] for k in common}, node["name"]
