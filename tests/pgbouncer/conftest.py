"""A PgBouncer in transaction mode in front of the session's primary, for the whole package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgbouncer_support import Bouncer, running_bouncer
from tests.support import PgDatabase, PgServer


@pytest.fixture(scope="session")
def bouncer(server: PgServer) -> Iterator[Bouncer]:
    with running_bouncer(server.admin_url, [server.admin_url, server.app_url]) as running:
        yield running


@pytest.fixture
def via_bouncer(db: PgDatabase, bouncer: Bouncer) -> PgDatabase:
    """The test database, reached through PgBouncer (admin and app role alike)."""
    return PgDatabase(
        name=db.name,
        admin_url=bouncer.route(db.admin_url),
        app_url=bouncer.route(db.app_url),
        replica_urls=[],
        server=db.server,
    )
