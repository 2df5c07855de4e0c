"""The monitor's start and stop may come from different threads (the AsyncRouter starts it from
its first-probe thread while `aclose()` may already be stopping it)."""

from __future__ import annotations

from advisoros_db.routing.core import Monitor, RoutingCore
from tests.routing.test_decisions import NODES
from tests.routing.test_routes import OPTIONS


def test_a_stopped_monitor_never_starts() -> None:
    # Before the fix, aclose() right after AsyncRouter() could see the monitor thread created but
    # not started ("cannot join thread before it is started"), or start it after the close.
    monitor = Monitor(RoutingCore(NODES, OPTIONS))
    monitor.stop()
    monitor.start()
    assert monitor._thread is None, "no probing thread after the router was closed"
    monitor.stop()  # again: harmless


def test_stop_joins_a_started_monitor() -> None:
    monitor = Monitor(RoutingCore(NODES, OPTIONS))
    monitor.start()
    monitor.stop()
    assert monitor._thread is None
