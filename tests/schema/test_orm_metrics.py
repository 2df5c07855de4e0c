"""Statement counters and latency histograms count the ORM's own statements (flushes, lazy
loads) and the psycopg fast path, and none of the router's internal ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from advisoros_db.routing import Router, nodes_from
from advisoros_db.routing.metrics import total
from advisoros_db.schema.tenants import Client
from tests.routing.conftest import FAST
from tests.routing.test_metrics import HISTOGRAM, samples
from tests.schema.conftest import SeededDb


def histogram_count(router: Router, kind: str, node: str) -> float:
    return samples(router.metrics_text()).get(
        (f"{HISTOGRAM}_count", (("kind", kind), ("node", node))), 0.0
    )


@pytest.fixture
def app_router(seeded_db: SeededDb) -> Iterator[Router]:
    with Router(nodes_from(seeded_db.db.app_url, []), FAST, monitor=False) as router:
        yield router


def test_orm_writes_and_lazy_loads_are_counted_and_timed(
    seeded_db: SeededDb, app_router: Router
) -> None:
    org = seeded_db.seed.organizations[0]
    with app_router.session("write", organization_id=org) as s:
        s.add(Client(organization_id=org, business_name="Counted Co"))
    # One INSERT from the flush at commit; the router's own statements (tenant setting, its
    # re-check, the commit's WAL position) are not the caller's and are not counted.
    counts = app_router.core.metrics.counts()
    assert total(counts, "advisoros_router_queries", kind="write", node="primary") == 1
    assert histogram_count(app_router, "write", "primary") == 1
    with app_router.session("read", organization_id=org) as s:
        client = s.get(Client, seeded_db.seed.row("clients", 0))
        assert client is not None
        assert len(client.documents) == 1  # a lazy load: a second statement
    counts = app_router.core.metrics.counts()
    assert total(counts, "advisoros_router_queries", kind="read", node="primary") == 2
    assert histogram_count(app_router, "read", "primary") == 2
    with app_router.connection("read", organization_id=org) as conn:
        conn.execute("SELECT count(*) FROM clients").fetchone()
    assert histogram_count(app_router, "read", "primary") == 3
    exposition = samples(app_router.metrics_text())
    labels = (("kind", "read"), ("node", "primary"))
    assert exposition[(f"{HISTOGRAM}_sum", labels)] > 0
    assert exposition[(f"{HISTOGRAM}_bucket", (*labels[:1], ("le", "+Inf"), labels[1]))] == 3
