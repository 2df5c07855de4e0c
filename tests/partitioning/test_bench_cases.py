"""The partitioning benchmark cases run end to end at a tiny scale (figures are not asserted)."""

from __future__ import annotations

from advisoros_db.bench.partition_cases import archive_vs_delete, conversion_under_load
from tests.support import PgServer


def test_conversion_case_reports_its_figures(server: PgServer) -> None:
    result = conversion_under_load(
        server.admin_url, server.app_url, scale=800, writers=2, batch_size=200
    )
    assert result["failed_writes"] == 0 and result["old_and_new_agree"] is True
    assert result["rows_copied"] >= 800 and result["writes"] > 0
    assert {"conversion_rows_per_s", "swap_lock_ms", "swap_write_stall_ms"} <= result.keys()


def test_archive_case_removes_the_same_rows_both_ways(server: PgServer) -> None:
    result = archive_vs_delete(server.admin_url, scale=1000)
    assert result["rows_deleted"] == 1000
    assert result["detach_ms"] > 0 and result["delete_ms"] > 0
