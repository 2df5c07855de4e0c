"""A node's pool is replaced when the node comes back after being unreachable (no server: the
pools hold plain objects, the core is fed probe results)."""

from __future__ import annotations

from advisoros_db.routing.connection import Pools
from advisoros_db.routing.kinds import Role
from advisoros_db.routing.state import NodeConfig


class _Pool:
    def __init__(self, node: NodeConfig) -> None:
        self.node = node


NODES = (
    NodeConfig(name="primary", role=Role.PRIMARY, url="postgresql://x@127.0.0.1:1/db"),
    NodeConfig(name="replica1", role=Role.READ, url="postgresql://x@127.0.0.1:2/db"),
)


def test_a_pool_is_kept_until_its_node_returns_then_replaced_once() -> None:
    returns: dict[str, int] = {}
    pools: Pools[_Pool] = Pools(NODES, _Pool)
    pools.epoch = lambda name: returns.get(name, 0)
    first = pools.get("replica1")
    assert pools.get("replica1") is first
    assert pools.take_retired() == []

    returns["replica1"] = 1
    second = pools.get("replica1")
    assert second is not first
    assert pools.get("replica1") is second
    assert pools.get("primary") is pools.get("primary")
    assert pools.take_retired() == [first]
    assert pools.take_retired() == []


def test_drain_hands_back_retired_pools_too() -> None:
    returns = {"replica1": 0}
    pools: Pools[_Pool] = Pools(NODES, _Pool)
    pools.epoch = lambda name: returns.get(name, 0)
    first = pools.get("replica1")
    returns["replica1"] = 1
    second = pools.get("replica1")
    drained = pools.drain()
    assert set(map(id, drained)) == {id(first), id(second)}
    assert pools.open == {}


def test_the_core_counts_a_return_only_after_the_node_was_unreachable() -> None:
    from advisoros_db.routing import state
    from advisoros_db.routing.core import RoutingCore
    from advisoros_db.routing.topology import RouterOptions
    from tests.routing.test_decisions import NODES as FULL
    from tests.routing.test_decisions import healthy_snapshot, probed

    core = RoutingCore(FULL, RouterOptions(interval_s=0.1, max_lag_s=5.0, return_after=2))
    core.update(lambda _: healthy_snapshot())
    # Ejected while reachable (stale): its connections are alive, no new pool.
    core.eject("replica1", "stale for this test", failed=False)
    for now in (1.0, 2.0):
        core.update(
            lambda s, t=now: state.apply_probe(
                s, "replica1", probed(True, 100), now=t, return_after=2
            )
        )
    assert not core.snapshot.node("replica1").ejected
    assert core.returns.get("replica1", 0) == 0
    # Unreachable, then back after two good probes: one return.
    down = state.ProbeResult(reachable=False, error="connection refused")
    core.update(lambda s: state.apply_probe(s, "replica1", down, now=3.0, return_after=2))
    assert core.snapshot.node("replica1").ejected
    for now in (4.0, 5.0):
        core.update(
            lambda s, t=now: state.apply_probe(
                s, "replica1", probed(True, 100), now=t, return_after=2
            )
        )
    assert not core.snapshot.node("replica1").ejected
    assert core.returns == {"replica1": 1}
