"""Vectorized value helpers: time-ordered UUIDs, timestamps, and conforming to allowed values."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from ipaddress import ip_address
from typing import Any
from uuid import UUID

import numpy as np

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000

# Labels that mean the same thing across the status vocabularies a schema may choose.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "completed": ("done", "complete", "processed", "finished", "closed"),
    "done": ("completed", "complete", "processed", "finished"),
    "processed": ("completed", "done", "complete", "reviewed"),
    "in_progress": ("running", "processing", "active", "started"),
    "running": ("in_progress", "processing", "started"),
    "processing": ("in_progress", "running"),
    "pending": ("queued", "todo", "open", "new", "uploaded", "draft"),
    "queued": ("pending", "todo", "new"),
    "todo": ("pending", "open", "new", "not_started"),
    "uploaded": ("pending", "new", "received"),
    "sent": ("issued", "open", "pending"),
    "overdue": ("sent", "issued", "open"),
    "paid": ("completed", "closed", "settled"),
    "cancelled": ("canceled", "void", "archived"),
    "archived": ("inactive", "closed", "cancelled"),
    "prospect": ("lead", "pending", "new"),
    "inactive": ("archived", "closed"),
    "review": ("in_review", "needs_review", "pending_review"),
    "failed": ("error", "rejected"),
}


def uuid7_bytes(ms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RFC 9562 version-7 UUIDs as an (n, 16) uint8 array: `ms` timestamps, random bits from `rng`."""
    n = len(ms)
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, :6] = ms.astype(">u8").view(np.uint8).reshape(n, 8)[:, 2:]
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def uuid7(ms: np.ndarray, rng: np.random.Generator) -> list[UUID]:
    """The same UUIDs as `uuid7_bytes`, as UUID objects (for ids later tables refer to)."""
    data = uuid7_bytes(ms, rng).tobytes()
    return [UUID(bytes=data[i : i + 16]) for i in range(0, len(data), 16)]


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
# Where the hex digits of a UUID's 16 bytes go in its 36-character text form.
_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def uuid_text(data: np.ndarray) -> np.ndarray:
    """The canonical text of (n, 16) UUID bytes, as an (n, 36) uint8 array of ASCII."""
    n = len(data)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[data >> 4]
    digits[:, 1::2] = _HEX[data & 0x0F]
    out[:, _DIGITS] = digits
    return out


def text_column(prefix: str, middle: np.ndarray, suffix: str) -> np.ndarray:
    """(n, width) ASCII rows with the same prefix and suffix around each row of `middle`."""
    n = len(middle)
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    tail = np.frombuffer(suffix.encode(), dtype=np.uint8)
    return np.hstack(
        [np.broadcast_to(head, (n, len(head))), middle, np.broadcast_to(tail, (n, len(tail)))]
    )


def timestamps(us: np.ndarray) -> list[datetime]:
    """Aware datetimes from microseconds since the epoch."""
    return [EPOCH + timedelta(microseconds=int(x)) for x in us]


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def conform(values: Sequence[Any], allowed: tuple[str, ...]) -> list[Any]:
    """Map each value onto the schema's allowed labels (case, synonyms), else the first label."""
    if not allowed:
        return list(values)
    exact = set(allowed)
    lowered = {a.lower(): a for a in allowed}
    memo: dict[Any, Any] = {}

    def one(v: Any) -> Any:
        if v is None or v in exact:
            return v
        if v not in memo:
            key = str(v).lower()
            hit = lowered.get(key)
            for alt in SYNONYMS.get(key, ()):
                if hit is None:
                    hit = lowered.get(alt)
            memo[v] = hit if hit is not None else allowed[0]
        return memo[v]

    return [one(v) for v in values]


def jsonb_bytes(value: Any) -> bytes:
    """The binary COPY form of a jsonb value: version byte 1, then the JSON text."""
    return b"\x01" + json.dumps(value, separators=(",", ":")).encode()


def coerce(values: list[Any], typname: str) -> list[Any]:
    """Adapt generated Python values to the column's actual type."""
    if not values:
        return values
    sample = next((v for v in values if v is not None), None)
    if sample is None:
        return values
    if typname in ("jsonb", "json") and not isinstance(sample, bytes):
        if typname == "json":
            return [None if v is None else json.dumps(v) for v in values]
        return [None if v is None else jsonb_bytes(v) for v in values]
    if typname == "numeric" and not isinstance(sample, Decimal):
        return [None if v is None else Decimal(str(round(v, 2))) for v in values]
    if typname in ("int2", "int4", "int8") and isinstance(sample, float):
        return [None if v is None else round(v) for v in values]
    if typname == "timestamp" and isinstance(sample, datetime) and sample.tzinfo is not None:
        return [None if v is None else v.astimezone(UTC).replace(tzinfo=None) for v in values]
    if typname == "date" and isinstance(sample, datetime):
        return [None if v is None else v.date() for v in values]
    if typname in ("timestamptz", "timestamp") and type(sample) is date:
        return [None if v is None else datetime(v.year, v.month, v.day, tzinfo=UTC) for v in values]
    if typname == "inet" and isinstance(sample, str):
        return [None if v is None else ip_address(v) for v in values]
    if typname in ("text", "varchar", "citext", "bpchar") and not isinstance(sample, str):
        return [None if v is None else str(v) for v in values]
    return values


TEXT_OID = 25
BYTEA_OID = 17


def copy_type(typname: str, oid: int, is_enum: bool) -> int:
    """The type oid psycopg dumps a column's values as in binary COPY."""
    if is_enum or typname in ("citext", "varchar", "bpchar"):
        return TEXT_OID  # enum_recv, citext and bpchar accept the text wire form
    if typname == "jsonb":
        return BYTEA_OID  # values are pre-encoded jsonb wire bytes (see jsonb_bytes)
    return oid
