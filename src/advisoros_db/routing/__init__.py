"""Read-replica routing: pure decisions over a state snapshot, health monitor, session shells."""

from advisoros_db.routing.core import survey
from advisoros_db.routing.fencing import Verdict
from advisoros_db.routing.kinds import Kind, Role, RoutingError, UnknownKind
from advisoros_db.routing.lsn import ConsistencyToken, InvalidToken
from advisoros_db.routing.policies import LeastOutstanding, RandomChoice, ReadPolicy, RoundRobin
from advisoros_db.routing.router import AsyncRouter, Router
from advisoros_db.routing.state import NodeConfig
from advisoros_db.routing.topology import RouterOptions, nodes_for_target, nodes_from

__all__ = [
    "AsyncRouter",
    "ConsistencyToken",
    "InvalidToken",
    "Kind",
    "LeastOutstanding",
    "NodeConfig",
    "RandomChoice",
    "ReadPolicy",
    "Role",
    "RoundRobin",
    "Router",
    "RouterOptions",
    "RoutingError",
    "UnknownKind",
    "Verdict",
    "nodes_for_target",
    "nodes_from",
    "survey",
]
