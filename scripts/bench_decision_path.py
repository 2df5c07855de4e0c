"""The per-transaction decision path of `router.connection("read")`, without I/O: plan, the
transaction object, whether the node is known down (where the code has that check), what to send
with BEGIN (the per-read freshness check included), release.

Usage: PYTHONPATH=<checkout>/src .venv/bin/python scripts/bench_decision_path.py LABEL
Prints {"code": LABEL, "decision_path_us": best of 7 repeats of 100,000 calls}; run it for two
checkouts alternately to compare them (docs/routing.md).
"""

from __future__ import annotations

import json
import sys
import time
import timeit

from advisoros_db.routing import RouterOptions, nodes_from, state
from advisoros_db.routing.core import RoutingCore
from advisoros_db.routing.kinds import Kind
from advisoros_db.routing.transaction import RoutedTransaction


def probed(in_recovery: bool, lsn: int) -> state.ProbeResult:
    return state.ProbeResult(
        reachable=True,
        latency_ms=1.0,
        in_recovery=in_recovery,
        current_lsn=None if in_recovery else lsn,
        replay_lsn=lsn if in_recovery else None,
        replay_age_s=0.0,
        port=1,
    )


def main() -> None:
    nodes = nodes_from("postgresql://a@h:1/d", ["postgresql://a@h:2/d", "postgresql://a@h:3/d"])
    core = RoutingCore(nodes, RouterOptions(max_lag_s=1e9))
    now = time.monotonic()
    core.update(
        lambda s: state.apply_probe(s, "primary", probed(False, 100), now=now, return_after=1)
    )
    if hasattr(core, "move_on"):  # this branch: the writable node's sample dates the replicas
        from advisoros_db.routing import fencing

        core.update(lambda s: fencing.sample_if_writable(s, "primary", 100, now))
    for name in ("replica1", "replica2"):
        core.update(
            lambda s, n=name: state.apply_probe(s, n, probed(True, 100), now=now, return_after=1)
        )

    def once() -> None:
        plan = core.plan(Kind.READ, None)
        tx = RoutedTransaction(core, Kind.READ, plan, None)
        tx.opening()
        tx.release()

    def once_checking_down() -> None:  # a shell asks it before every checkout
        plan = core.plan(Kind.READ, None)
        tx = RoutedTransaction(core, Kind.READ, plan, None)
        tx.known_down()
        tx.opening()
        tx.release()

    measured = once_checking_down if hasattr(RoutedTransaction, "known_down") else once

    plan = core.plan(Kind.READ, None)
    if not plan.first.startswith("replica"):
        raise SystemExit(f"reads would not go to a replica: {plan}")
    count = 100_000
    best = min(timeit.repeat(measured, number=count, repeat=7)) / count * 1e6
    print(
        json.dumps(
            {"code": sys.argv[1] if len(sys.argv) > 1 else "", "decision_path_us": round(best, 3)}
        )
    )


if __name__ == "__main__":
    main()
