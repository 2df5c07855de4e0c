"""Deterministic synthetic data for every table, bulk-loaded with COPY."""

from advisoros_db.datagen.demo import DemoReport, embed_sample, load_demo
from advisoros_db.datagen.scales import SCALES, Scale, get_scale
from advisoros_db.datagen.seed import SeedReport, last_run, seed

__all__ = [
    "SCALES",
    "DemoReport",
    "Scale",
    "SeedReport",
    "embed_sample",
    "get_scale",
    "last_run",
    "load_demo",
    "seed",
]
