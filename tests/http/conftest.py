"""HTTP tests reuse the routing fixtures (the `items` database and node lists)."""

from tests.routing.conftest import admin_nodes, app_nodes, routing_db, server_admin_url

__all__ = ["admin_nodes", "app_nodes", "routing_db", "server_admin_url"]
