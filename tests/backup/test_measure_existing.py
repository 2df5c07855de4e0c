"""`scripts/measure_backup.py --home`: the backup figures measured on a cluster the script did not
start (how `large` is measured), which it must leave as it found it apart from the day of writes,
with its repository and restores in a folder of its own, deleted after."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from psycopg import sql

from advisoros_db import datagen, migrations
from advisoros_db.backup.wal import SLOT
from advisoros_db.cluster import Cluster, node
from advisoros_db.settings import Settings
from advisoros_db.targets import embedded_cluster
from tests.backup.conftest import server_time
from tests.support import EXTERNAL_URL, scratch_path

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).parents[2] / "scripts" / "measure_backup.py"


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Cluster, str, Path]]:
    """An own primary without replicas, migrated and seeded at `tiny` (the lead's cluster in
    small), its URL and a scratch folder."""
    if EXTERNAL_URL:
        pytest.skip("measures an own embedded cluster")
    scratch = scratch_path("advisoros-measure-")
    cluster = embedded_cluster(Settings(home=scratch / "home", embedded_replicas=0))
    try:
        info = cluster.up(0)
        migrations.upgrade(info.primary_url)
        datagen.seed(info.primary_url, "tiny")
        yield cluster, info.primary_url, scratch
    finally:
        cluster.destroy()
        shutil.rmtree(scratch, ignore_errors=True)


def run_script(home: Path, work: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, str(SCRIPT), "--home", str(home), "--work", str(work)),
            *("--scale", "tiny", "--json", str(out), *extra),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=out.parent,
        check=False,
    )


def contents(url: str, before: dt.datetime) -> dict[str, Any]:
    """Per table with `created_at`: its rows created before `before`, as JSON without `updated_at`
    (the one column the day of writes edits), counted and hashed by the server. Per table without
    it (keys and chain heads that triggers add for new rows): the set of its rows."""
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname, EXISTS (SELECT 1 FROM pg_attribute a"
            "  WHERE a.attrelid = c.oid AND a.attname = 'created_at' AND NOT a.attisdropped)"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
        ).fetchall()
        found: dict[str, Any] = {}
        for schema, table, dated in tables:
            name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            if not dated:
                rows = conn.execute(sql.SQL("SELECT t::text FROM ONLY {} t").format(name))
                found[f"{schema}.{table}"] = {r[0] for r in rows}
                continue
            row = conn.execute(
                sql.SQL(
                    "SELECT count(*) || ':' || md5(coalesce(string_agg(j::text, E'\\n' ORDER BY"
                    " j::text), '')) FROM (SELECT to_jsonb(t) - 'updated_at' AS j FROM ONLY {} t"
                    " WHERE t.created_at < {}) rows"
                ).format(name, sql.Literal(before))
            ).fetchone()
            assert row is not None
            found[f"{schema}.{table}"] = row[0]
    return found


def kept(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What of `before` differs in `after`: a dated table's hash, or an undated table's rows that
    are gone (new rows are the day's)."""
    lost: dict[str, Any] = {}
    for table, was in before.items():
        now = after.get(table)
        if isinstance(was, set):
            if gone := was - (now or set()):
                lost[table] = sorted(gone)[:3]
        elif now != was:
            lost[table] = (was, now)
    return lost


def counts(url: str, tables: list[str]) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            t: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))
            ).fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def server_state(url: str) -> tuple[Any, ...]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT current_setting('synchronous_standby_names'),"
            " (SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s),"
            " pg_is_in_recovery()",
            (SLOT,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_measures_an_existing_cluster_and_leaves_it_as_found(
    seeded: tuple[Cluster, str, Path],
) -> None:
    cluster, url, scratch = seeded
    work = scratch / "work"
    work.mkdir()
    before = server_time(url)
    rows_before = contents(url, before)
    state_before = server_state(url)
    assert state_before[1] == 0

    done = run_script(cluster.home, work, scratch / "figures.json")

    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((scratch / "figures.json").read_text())
    assert figures["mode"] == "existing cluster"
    assert figures["full"]["bytes"] > 0 and figures["full"]["seconds"] > 0
    assert set(figures["full"]["files"]) == {"base.tar", "pg_wal.tar", "backup_manifest"}
    assert 0 < figures["incremental"]["bytes"] < figures["full"]["bytes"]
    assert figures["day_of_writes"]["rows_inserted"] > 0
    assert figures["restore_chain_seconds"] > 0 and figures["verify_chain_seconds"] > 0
    assert "restore_full_seconds" not in figures and "verify_full_seconds" not in figures
    assert figures["restore_chain_need_bytes"]["files pg_combinebackup rebuilds"] > 0
    assert figures["documents"] == {"found": 1_200, "scale": 1_200}
    for part in ("rpo_async", "rpo_sync", "failover"):
        assert part not in figures
        assert "not run on an existing cluster (--home)" in figures["skipped"][part]
        assert "measured at medium" in figures["skipped"][part]
    assert figures["cleanup"] == {"slot_dropped": True, "run_folder_removed": True}

    # Left as found: running, still the primary, no slot holding its WAL, no restored copy
    # running, the same rows apart from the day's new ones and its `updated_at` edits.
    assert node.postmaster_pid(cluster.node("primary")) is not None
    assert server_state(url) == state_before
    assert list(work.iterdir()) == []
    assert kept(rows_before, contents(url, before)) == {}
    inserted: dict[str, int] = figures["day_of_writes"]["inserted"]
    old = {
        t: int(rows_before[f"public.{t}"].split(":")[0])
        for t in inserted
        if f"public.{t}" in rows_before
    }
    assert old, inserted
    assert counts(url, list(old)) == {t: n + inserted[t] for t, n in old.items()}
    assert not [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(work) in " ".join(p.info["cmdline"] or ())
    ]


def test_a_run_stopped_midway_cleans_up_all_the_same(seeded: tuple[Cluster, str, Path]) -> None:
    cluster, url, scratch = seeded
    work = scratch / "stopped"
    work.mkdir()
    before = server_time(url)
    rows_before = contents(url, before)
    state_before = server_state(url)
    out = scratch / "stopped.json"
    command = [sys.executable, str(SCRIPT), "--home", str(cluster.home), "--work", str(work)]
    with subprocess.Popen(
        [*command, "--scale", "tiny", "--json", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=scratch,
    ) as run:
        deadline = time.monotonic() + 600
        # Stopped once the run holds a slot on the server: what a kill must not leave behind.
        while server_state(url)[1] == 0:
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline, "the run never created its slot"
            time.sleep(0.1)
        run.terminate()
        _, stderr = run.communicate(timeout=600)

    assert run.returncode != 0
    assert "stopped by signal 15; cleaned up" in stderr
    assert server_state(url) == state_before
    assert list(work.iterdir()) == []
    assert not [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(work) in " ".join(p.info["cmdline"] or ())
    ]
    assert node.postmaster_pid(cluster.node("primary")) is not None
    assert kept(rows_before, contents(url, before)) == {}


def test_refuses_before_writing_when_the_disk_cannot_hold_the_full_backup(
    seeded: tuple[Cluster, str, Path],
) -> None:
    cluster, url, scratch = seeded
    work = scratch / "not-yet"  # created by the script, so removed by it too
    before = server_time(url)
    rows_before = contents(url, before)

    done = run_script(cluster.home, work, scratch / "refused.json", "--reserve-gb", "1000000")

    assert done.returncode != 0
    assert "not enough disk for a full backup" in done.stderr
    assert "GB are to stay free" in done.stderr
    figures = json.loads((scratch / "refused.json").read_text())
    assert "full" not in figures and "vacuum_seconds" not in figures
    assert not work.exists()
    assert server_state(url)[1] == 0
    assert contents(url, before) == rows_before  # nothing written at all


def test_check_says_whether_a_run_can_start_and_writes_nothing(
    seeded: tuple[Cluster, str, Path],
) -> None:
    cluster, url, scratch = seeded
    work = scratch / "checked"
    before = server_time(url)
    rows_before = contents(url, before)

    done = run_script(cluster.home, work, scratch / "check.json", "--check")

    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((scratch / "check.json").read_text())
    assert figures["check"].startswith("can start: D = ")
    assert figures["full_need_bytes"]["plaintext staging"] > 0
    assert "full" not in figures and "vacuum_seconds" not in figures
    assert not work.exists()
    assert server_state(url)[1] == 0
    assert contents(url, before) == rows_before


def test_refuses_a_home_without_a_running_cluster(tmp_path: Path) -> None:
    done = run_script(tmp_path / "nothing", tmp_path / "work", tmp_path / "out.json")
    assert done.returncode != 0
    assert "no running embedded cluster under" in done.stderr
    assert not (tmp_path / "work").exists()
