"""Pools as users configure them: min and max per kind, one pool per node shared by sessions and the
fast path, the connection limit in the metrics; and consistency tokens the primary never issued."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from advisoros_db.errors import ConfigError
from advisoros_db.routing import NodeConfig, Router, RouterOptions
from advisoros_db.routing.lsn import ConsistencyToken, InvalidToken
from advisoros_db.settings import get_settings
from tests.routing.conftest import ONE_SHOT, wait_for

SIZES = {
    "ADVISOROS_POOL_WRITE_MIN_SIZE": "2",
    "ADVISOROS_POOL_WRITE_MAX_SIZE": "3",
    "ADVISOROS_POOL_READ_MIN_SIZE": "0",
    "ADVISOROS_POOL_READ_MAX_SIZE": "2",
    "ADVISOROS_HEALTH_CHECK_INTERVAL_S": "30",
}


@pytest.fixture
def sized(admin_nodes: tuple[NodeConfig, ...], monkeypatch: pytest.MonkeyPatch) -> Iterator[Router]:
    for key, value in SIZES.items():
        monkeypatch.setenv(key, value)
    options = RouterOptions.from_settings(get_settings())
    with Router(admin_nodes, options, monitor=False) as router:
        yield router


def _gauge(text_: str, name: str, node: str | None = None) -> float:
    label = f'{{node="{node}"}}' if node else ""
    match = re.search(rf"^{name}{re.escape(label)} (\S+)$", text_, re.MULTILINE)
    assert match, f"{name}{label} not in the metrics"
    return float(match.group(1))


def test_each_kind_gets_its_own_min_and_max(sized: Router) -> None:
    primary, replica = sized.pools.get("primary"), sized.pools.get("replica1")
    assert (primary.min_size, primary.max_size) == (2, 3)
    assert (replica.min_size, replica.max_size) == (0, 2)
    # The min is honoured: the primary's pool opens two connections by itself.
    wait_for(lambda: primary.get_stats()["pool_size"] >= 2, what="primary pool at its min")
    assert replica.get_stats().get("pool_size", 0) == 0


def test_sessions_and_the_fast_path_share_one_pool_per_node(sized: Router) -> None:
    pool = sized.pools.get("primary")
    with sized.session("write") as s:  # SQLAlchemy's first connection also reads server facts
        s.execute(text("SELECT 1"))
    before = pool.get_stats().get("requests_num", 0)
    with sized.session("write") as s:
        s.execute(text("SELECT 1"))
    after_session = pool.get_stats()["requests_num"]
    assert after_session > before  # the ORM session drew from the psycopg pool
    with sized.connection("write") as conn:
        conn.execute("SELECT 1")
    assert pool.get_stats()["requests_num"] == after_session + 1
    # Three at once is the write pool's max: a fourth would wait, so all three are its own.
    with sized.connection("write"), sized.connection("write"), sized.session("write") as s:
        s.execute(text("SELECT 1"))
        assert pool.get_stats()["pool_size"] == 3


def test_the_connection_limit_is_in_the_metrics(sized: Router) -> None:
    metrics = sized.metrics_text().decode()
    # primary 3 + two replicas 2 each, plus one probe connection per node
    assert sized.connection_limit == 3 + 2 + 2 + 3
    assert _gauge(metrics, "advisoros_router_connection_limit") == sized.connection_limit
    assert _gauge(metrics, "advisoros_router_pool_max_connections", "primary") == 3
    assert _gauge(metrics, "advisoros_router_pool_min_connections", "replica2") == 0


def test_a_min_above_the_max_is_a_clear_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOROS_POOL_READ_MIN_SIZE", "5")
    monkeypatch.setenv("ADVISOROS_POOL_READ_MAX_SIZE", "2")
    with pytest.raises(ConfigError, match="ADVISOROS_POOL_READ_MIN_SIZE"):
        get_settings()


def test_a_forged_token_is_refused_and_a_real_one_from_elsewhere_is_kept(
    sized: Router, admin_nodes: tuple[NodeConfig, ...]
) -> None:
    forged = ConsistencyToken(lsn=0xFFFF_0000_0000)
    with (
        pytest.raises(InvalidToken, match="ahead of the primary's WAL position"),
        sized.consistent_with(forged),
    ):
        pass
    with pytest.raises(InvalidToken), sized.session("read", token=str(forged)):
        pass
    # A write through another router, after this one's last probe: its token is ahead of what
    # this router has seen, and is honoured after one look at the primary.
    with Router(admin_nodes, RouterOptions(interval_s=30.0), monitor=False) as other:
        with other.session("write") as s:
            s.execute(text("INSERT INTO items (v) VALUES ('written elsewhere')"))
        token = other.token
    assert token is not None
    with sized.consistent_with(token), sized.session("read") as s:
        assert s.execute(text("SELECT 1")).scalar_one() == 1


def test_handing_a_connection_back_reads_no_settings(
    admin_nodes: tuple[NodeConfig, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: with `ADVISOROS_PGBOUNCER` left to the environment (`RouterOptions()`), every
    connection handed back to a pool re-read the settings (environment and `.env`) to pick its
    reset: milliseconds per transaction, which made the routing benchmark crawl under load."""
    from advisoros_db import pooler

    reads: list[int] = []
    real = pooler.get_settings

    def counted() -> object:
        reads.append(1)
        return real()

    monkeypatch.setattr(pooler, "get_settings", counted)
    with Router(admin_nodes, ONE_SHOT, monitor=False) as router:
        for _ in range(3):  # open the pools and their first connections
            with router.connection("read") as conn:
                conn.execute("SELECT 1")
            with router.session("read") as s:
                s.execute(text("SELECT 1"))
        settled = len(reads)
        for _ in range(20):
            with router.connection("read") as conn:
                conn.execute("SELECT 1")
            with router.session("read") as s:
                s.execute(text("SELECT 1"))
        assert len(reads) == settled, f"{len(reads) - settled} settings reads in 40 transactions"
