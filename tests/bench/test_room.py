"""The bench refuses, before loading anything, a data set the disk cannot hold (a `large` run with
two replicas once filled the disk half an hour in and left no report)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from advisoros_db.cli.app import app
from advisoros_db.cluster import Cluster
from advisoros_db.datagen import get_scale, room
from advisoros_db.errors import ConfigError


def test_the_need_grows_with_the_servers_and_the_limit_files() -> None:
    large = get_scale("large")
    one = room.needed_bytes(large, 1)
    assert room.needed_bytes(large, 3) == 3 * one
    assert room.needed_bytes(large, 1, measure_limit=True) > one
    assert room.needed_bytes(get_scale("tiny"), 3) < one / 100


def test_a_data_set_larger_than_the_free_space_is_refused_with_what_to_do(tmp_path: Path) -> None:
    large = get_scale("large")
    with pytest.raises(ConfigError) as refused:
        room.ensure_room(tmp_path, large, 3, free=room.needed_bytes(large, 3) - 1)
    message = str(refused.value)
    assert "not enough disk" in message and "--replicas 0" in message
    room.ensure_room(tmp_path, get_scale("tiny"), 1)  # a tiny set fits


def test_what_the_cluster_already_holds_counts_as_room(tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes(b"\0" * 1_000_000)
    tiny = get_scale("tiny")
    needed = room.needed_bytes(tiny, 1)
    # Free space short of the need by less than the home holds: enough only because a reload
    # replaces what is there.
    room.ensure_room(tmp_path, tiny, 1, free=needed - 500_000)
    with pytest.raises(ConfigError):
        room.ensure_room(tmp_path, tiny, 1, free=needed - 2_000_000)


def test_bench_on_the_embedded_cluster_refuses_before_loading(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(room, "BYTES_PER_DOCUMENT_PER_NODE", 10**15)
    out = tmp_path / "out"
    env = {"ADVISOROS_HOME": str(cluster.home), "COLUMNS": "200"}
    before = _relations(cluster)
    result = CliRunner().invoke(app, ["bench", "--scale", "tiny", "--out", str(out)], env=env)
    assert result.exit_code != 0
    assert "not enough disk" in result.output
    assert not out.exists(), "no report folder: nothing ran"
    assert _relations(cluster) == before, "nothing was created or loaded"


def _relations(cluster: Cluster) -> list[tuple[str, str, int]]:
    """Every relation and, for each table, its exact row count: what a load would change.
    (`reltuples` would not do: autovacuum may re-estimate it between two looks.)"""
    with psycopg.connect(cluster.url("primary")) as conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            " ORDER BY 1, 2"
        ).fetchall()
        found: list[tuple[str, str, int]] = []
        for schema, name, kind in rows:
            count = -1
            if kind == "r":
                counted = conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
                ).fetchone()
                assert counted is not None
                count = int(counted[0])
            found.append((f"{schema}.{name}", str(kind), count))
    return found


def test_a_folder_that_vanishes_while_the_home_is_measured_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running server removes folders while the home is walked: the walk skips them."""
    home = tmp_path / "home"
    (home / "kept").mkdir(parents=True)
    (home / "kept" / "a").write_bytes(b"x" * 10)
    (home / "gone").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "gone":
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert room._size(home) == 10
