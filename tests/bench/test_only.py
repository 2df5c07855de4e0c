"""`bench --only PATTERN`: a partial run measures only the matching cases, on the data set already
loaded, and says so; a pattern that matches nothing, or no loaded data set, is refused before
anything runs or changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from advisoros_db import bench, datagen
from advisoros_db.bench.selection import Selection
from advisoros_db.cli.app import app
from advisoros_db.errors import ConfigError
from tests.bench.conftest import tiny_clone
from tests.support import PgDatabase, PgServer

# Seeding `tiny` and a few cases (with the naive copy and a VACUUM) on the shared 2-core machine.
pytestmark = pytest.mark.timeout(900)

SEARCHES = {
    "documents.file_name_search",
    "documents.description_search",
    "documents.extracted_text_search",
    "documents.common_word_search",
    "tasks.title_search",  # a page through search_tenant_text: its owner column needs the tenant
}
PATTERNS = ["documents.*search*", "tasks.title_search", "router_cases.routing_overhead"]

State = tuple[object, object, object]


@pytest.fixture(scope="module")
def seeded(server: PgServer, tiny_template: str) -> Iterator[PgDatabase]:
    yield from tiny_clone(server, tiny_template, "o")


@pytest.fixture(scope="module")
def outcome(seeded: PgDatabase) -> dict[str, Any]:
    before = datagen.last_run(seeded.admin_url)
    report = bench.run(
        seeded.admin_url, scale="tiny", app_url=seeded.app_url, only=PATTERNS
    ).as_dict()
    after = datagen.last_run(seeded.admin_url)
    return {"data": report, "loaded_before": before, "loaded_after": after}


def _cli(db: PgDatabase, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("ADVISOROS_DATABASE_URL", db.admin_url)
    monkeypatch.setenv("ADVISOROS_APP_DATABASE_URL", db.app_url)
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["bench", "--scale", "tiny", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def _state(db: PgDatabase) -> State:
    """What a run that went ahead would change: the load, the naive copy, the last VACUUM."""
    with psycopg.connect(db.admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT to_regnamespace('naive') IS NOT NULL,"
            " (SELECT last_vacuum FROM pg_stat_user_tables"
            "  WHERE schemaname = 'public' AND relname = 'clients')"
        ).fetchone()
    assert row is not None
    last = datagen.last_run(db.admin_url)
    return (last and last["loaded_at"], row[0], row[1])


def test_only_the_matching_cases_are_measured(outcome: dict[str, Any]) -> None:
    data = outcome["data"]
    assert {c["name"] for c in data["cases"]} == SEARCHES
    for case in data["cases"]:
        assert case["skipped"] is None
        assert case["optimized"]["repetitions"] >= 1 and case["naive"]["repetitions"] >= 1
        assert case["optimized"]["rows"] == case["naive"]["rows"]
    assert [(e["module"], e["name"], e["error"]) for e in data["external"]] == [
        ("router_cases", "routing_overhead", None)
    ]
    assert data["external"][0]["figures"]["direct_psycopg_pool_us"] > 0
    assert data["partial"]["patterns"] == PATTERNS
    assert set(data["partial"]["cases"]) == SEARCHES | {"router_cases.routing_overhead"}
    assert data["indexes"] is None  # the per-index table belongs to full runs
    assert data["missing_case_modules"] == []


def test_the_loaded_data_set_is_reused_not_reloaded(outcome: dict[str, Any]) -> None:
    data = outcome["data"]
    assert data["load"] is None
    assert outcome["loaded_before"] == outcome["loaded_after"]
    assert data["row_counts"]["documents"] == 1_200


def test_the_report_says_it_is_partial_and_which_cases(
    outcome: dict[str, Any], tmp_path: Path
) -> None:
    data = outcome["data"]
    bench.write(data, tmp_path, "advisoros-db bench --scale tiny --only 'documents.*search*'")
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# advisoros-db benchmark — scale `tiny` (partial run)")
    note = next(line for line in report.splitlines() if line.startswith("**Partial run**"))
    for name in [*PATTERNS, *SEARCHES, "router_cases.routing_overhead"]:
        assert f"`{name}`" in note
    assert "documents.list" not in report  # a case this run did not measure
    assert "## Indexes" not in report
    assert "**Partial run**" in (tmp_path / "summary.md").read_text()


def test_the_command_writes_a_partial_report(
    seeded: PgDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "partial"
    code, output = _cli(
        seeded, monkeypatch, "--only", "documents.file_name_search", "--out", str(out), "--json"
    )
    assert code == 0, output
    written = json.loads((out / "bench.json").read_text())
    assert [c["name"] for c in written["cases"]] == ["documents.file_name_search"]
    assert written["partial"] == {
        "patterns": ["documents.file_name_search"],
        "cases": ["documents.file_name_search"],
    }
    assert written["external"] == []
    assert "(partial run)" in (out / "report.md").read_text()


def test_a_pattern_matching_no_case_is_refused_before_anything_runs(
    seeded: PgDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = _state(seeded)
    out = tmp_path / "never"
    code, output = _cli(
        seeded, monkeypatch, "--only", "documents.*search*", "--only", "nosuch.*", "--out", str(out)
    )
    assert code == 1
    assert "--only 'nosuch.*' matches no benchmark case" in output
    assert "documents.list" in output  # the names to choose from
    assert "router_cases.routing_overhead" in output
    assert "documents.*search*" not in output.split("matches")[0]  # only the failing one named
    assert not out.exists()
    assert _state(seeded) == before


def test_another_scale_than_the_loaded_one_is_refused(seeded: PgDatabase) -> None:
    before = _state(seeded)
    with pytest.raises(ConfigError, match="holds scale tiny with seed 42, not scale small"):
        bench.run(seeded.admin_url, scale="small", app_url=seeded.app_url, only=["documents.*"])
    assert _state(seeded) == before


def test_no_loaded_data_set_is_refused_and_nothing_is_seeded(db: PgDatabase) -> None:
    with pytest.raises(ConfigError, match="this database holds none"):
        bench.run(db.admin_url, scale="tiny", app_url=db.app_url, only=["documents.list"])
    assert datagen.last_run(db.admin_url) is None
    with psycopg.connect(db.admin_url) as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (0,)


def test_only_with_reseed_is_a_usage_error(db: PgDatabase, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _cli(db, monkeypatch, "--only", "documents.list", "--reseed")
    assert code == 2
    assert "loads nothing" in output
    with pytest.raises(ConfigError, match="loads nothing"):
        bench.run(db.admin_url, app_url=db.app_url, only=["documents.list"], reseed=True)
    assert datagen.last_run(db.admin_url) is None


def test_patterns_are_shell_style_and_case_sensitive() -> None:
    chosen = Selection.of(["documents.*search*", "tasks.overdue"])
    assert chosen is not None and Selection.of([]) is None
    assert chosen.wants("documents.extracted_text_search")
    assert chosen.wants("tasks.overdue") and not chosen.wants("tasks.overdue_x")
    assert not chosen.wants("Documents.file_name_search")
    chosen.check(["documents.list", "documents.file_name_search", "tasks.overdue"])
    with pytest.raises(ConfigError, match=r"'tasks\.overdue' matches no benchmark case"):
        chosen.check(["documents.file_name_search"])
