"""Deterministic synthetic data for every table, bulk-loaded with COPY."""

from advisoros_db.extras import require

require("bench")  # before its dependencies are imported: a missing extra names itself

from advisoros_db.datagen.demo import DemoReport, embed_sample, load_demo  # noqa: E402
from advisoros_db.datagen.scales import SCALES, Scale, get_scale  # noqa: E402
from advisoros_db.datagen.seed import SeedReport, last_run, seed  # noqa: E402

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
