"""Attack tests reuse the routing fixtures (the `items` database and node lists)."""

from tests.routing.conftest import (
    admin_node_list,
    admin_nodes,
    app_nodes,
    routing_db,
    server_admin_url,
)

__all__ = ["admin_node_list", "admin_nodes", "app_nodes", "routing_db", "server_admin_url"]
