"""Pure helpers of the generator: no server needed."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from advisoros_db.datagen.context import org_weights
from advisoros_db.datagen.introspect import ForeignKey, TableInfo, dependency_order, parse_allowed
from advisoros_db.datagen.scales import get_scale
from advisoros_db.datagen.values import conform, jsonb_bytes, to_us, uuid7
from advisoros_db.errors import ConfigError


def test_uuid7_carries_the_timestamp_version_and_variant() -> None:
    moment = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    ms = np.array([to_us(moment) // 1000] * 3)
    ids = uuid7(ms, np.random.default_rng(1))
    assert len(set(ids)) == 3
    for value in ids:
        assert value.version == 7
        assert value.variant == "specified in RFC 4122"
        assert int.from_bytes(value.bytes[:6], "big") == ms[0]


def test_conform_maps_case_and_synonyms_onto_allowed_labels() -> None:
    allowed = ("QUEUED", "RUNNING", "DONE", "FAILED")
    assert conform(["queued", "completed", "in_progress", "failed", None], allowed) == [
        "QUEUED",
        "DONE",
        "RUNNING",
        "FAILED",
        None,
    ]
    assert conform(["whatever"], allowed) == ["QUEUED"]
    assert conform(["kept"], ()) == ["kept"]


def test_parse_allowed_reads_postgres_check_definitions() -> None:
    definition = "CHECK ((status = ANY (ARRAY['draft'::text, 'sent'::text, 'o''brien'::text])))"
    assert parse_allowed(definition) == ("status", ("draft", "sent", "o'brien"))
    assert parse_allowed("CHECK ((amount >= (0)::numeric))") is None


def test_jsonb_wire_form_is_version_one_then_json() -> None:
    raw = jsonb_bytes({"a": [1, 2]})
    assert raw[:1] == b"\x01"
    assert json.loads(raw[1:]) == {"a": [1, 2]}


def test_firm_sizes_are_skewed() -> None:
    weights = org_weights(200, np.random.default_rng(3))
    assert weights.sum() == pytest.approx(1.0)
    top_decile = np.sort(weights)[::-1][:20].sum()
    assert top_decile > 0.35  # a few large firms hold a large share
    assert weights.max() <= 0.31


def test_dependency_order_puts_parents_first() -> None:
    def info(name: str, *parents: str) -> TableInfo:
        fks = [ForeignKey(f"fk_{name}_{p}", (f"{p}_id",), p, ("id",)) for p in parents]
        return TableInfo("public", name, False, {}, foreign_keys=fks)

    infos = {
        "tasks": info("tasks", "engagements", "users", "tasks"),
        "engagements": info("engagements", "clients"),
        "clients": info("clients", "organizations"),
        "users": info("users", "organizations"),
        "organizations": info("organizations"),
    }
    order = dependency_order(infos)
    for child, parent in [
        ("tasks", "engagements"),
        ("engagements", "clients"),
        ("users", "organizations"),
    ]:
        assert order.index(parent) < order.index(child)


def test_unknown_scale_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="tiny, small, medium, large"):
        get_scale("huge")
    with pytest.raises(ConfigError, match="at least 1"):
        get_scale("tiny", organizations=0)
    assert get_scale("small", organizations=3).organizations == 3


def test_index_definitions_are_rebuilt_on_every_partition() -> None:
    from advisoros_db.datagen.loader import recursive

    parent = "CREATE INDEX idx_a ON ONLY public.documents USING btree (organization_id)"
    assert (
        recursive(parent) == "CREATE INDEX idx_a ON public.documents USING btree (organization_id)"
    )
    plain = "CREATE INDEX idx_b ON public.tasks USING btree (due_date)"
    assert recursive(plain) == plain


def test_an_index_build_takes_the_cores_no_other_load_is_using() -> None:
    from advisoros_db.datagen.seed import _Busy, cores

    busy = _Busy()
    with busy:
        alone = int(busy.build_settings()["max_parallel_maintenance_workers"])
        with busy:
            shared = int(busy.build_settings()["max_parallel_maintenance_workers"])
    assert alone == cores() - 1
    assert shared == max(0, cores() - 2)


def test_buckets_cover_every_row_and_stay_inside_their_partition() -> None:
    from advisoros_db.datagen import buckets
    from advisoros_db.datagen.context import Context
    from advisoros_db.datagen.pools import Pools
    from advisoros_db.partitioning.layout import add_months

    anchor = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
    ctx = Context(7, get_scale("tiny"), anchor, Pools(*([("x",)] * 10)))
    months = buckets.buckets("audit_logs", anchor)
    shares = buckets.split(ctx, "audit_logs", 0, 100_000)
    assert shares.sum() == 100_000 and len(shares) == len(months) >= 24
    assert shares[-1] > shares[0]  # denser towards now, as sampling.created draws
    for bucket in months:
        us = buckets.month_times(ctx, ctx.rng("t", bucket.index), bucket, 1_000)
        assert isinstance(bucket.key, dt.datetime)
        assert us.min() >= to_us(bucket.key)
        assert us.max() < min(to_us(add_months(bucket.key, 1)), to_us(anchor) + 1)
        assert (np.diff(us) >= 0).all()
    years = buckets.buckets("documents", anchor)
    counts = buckets.split(ctx, "documents", 0, 10_000)
    assert counts.sum() == 10_000 and years[-1].key is None and counts[-1] > 0
    assert buckets.parse(years[3].request, anchor) == ("documents", years[3])
    assert buckets.parse("clients", anchor) == ("clients", None)
