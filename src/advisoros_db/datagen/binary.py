"""PostgreSQL binary COPY rows, encoded column by column with numpy instead of a call per value.

Each column becomes a byte buffer, a start and a length per row (-1 for NULL); rows are then laid
out by one scatter per column. Values drawn from a small vocabulary (`Pooled`) and fixed-width
arrays (`Uuids`, `Micros`) are never turned into Python objects per row at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer

# Signature, flags, header extension length (COPY's binary file format).
HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
UNIX_TO_PG_US = 946_684_800_000_000  # 2000-01-01, PostgreSQL's epoch, in µs since 1970
DAY_US = 86_400_000_000
# Rows encoded at once: bounds the index arrays of the scatter (8 bytes per byte of output).
SLICE = 32_768


@dataclass(frozen=True)
class Chunk:
    """Rows already in binary COPY form (no header or trailer), for the columns named."""

    columns: tuple[str, ...]
    data: bytes
    rows: int


@dataclass(frozen=True)
class Pooled:
    """Values taken from a vocabulary by position: the vocabulary is encoded once, not per row."""

    index: np.ndarray
    values: Sequence[Any]

    def __len__(self) -> int:
        return len(self.index)

    def tolist(self) -> list[Any]:
        return [self.values[i] for i in self.index]


@dataclass(frozen=True)
class Uuids:
    """UUIDs as an (n, 16) uint8 array."""

    data: np.ndarray

    def __len__(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Micros:
    """Moments as µs since 1970 (int64); NULL where `null` is true. Dates take the day."""

    us: np.ndarray
    null: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.us)


@dataclass(frozen=True)
class Numbers:
    """Integers, floats or booleans as one numpy array, sent in the column's own binary width.

    NULL where `null` is true. A column of a type with no fixed-width wire form (numeric) is
    dumped value by value instead.
    """

    values: np.ndarray
    null: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    def tolist(self) -> list[Any]:
        out: list[Any] = self.values.tolist()
        if self.null is not None:
            for i in np.flatnonzero(self.null):
                out[i] = None
        return out


@dataclass(frozen=True)
class Fixed:
    """Text values of one width, as an (n, width) uint8 array of their UTF-8 bytes."""

    data: np.ndarray

    def __len__(self) -> int:
        return len(self.data)

    def tolist(self) -> list[str]:
        raw, width = self.data.tobytes(), self.data.shape[1]
        return [raw[i : i + width].decode() for i in range(0, len(raw), width)]


Values = list[Any] | Pooled | Uuids | Micros | Numbers | Fixed
# The binary wire form of the fixed-width types a `Numbers` column is sent as.
WIRE: dict[str, np.dtype[Any]] = {
    "int2": np.dtype(">i2"),
    "int4": np.dtype(">i4"),
    "int8": np.dtype(">i8"),
    "float4": np.dtype(">f4"),
    "float8": np.dtype(">f8"),
    "bool": np.dtype("u1"),
}
# One encoded column: bytes, where each row's value starts, its length (-1 for NULL).
Field = tuple[np.ndarray, np.ndarray, np.ndarray]


def take(values: Values, at: np.ndarray) -> Values:
    """The rows at positions `at` (ascending), of any column form."""
    if isinstance(values, Pooled):
        return Pooled(values.index[at], values.values)
    if isinstance(values, Uuids):
        return Uuids(values.data[at])
    if isinstance(values, Micros):
        return Micros(values.us[at], None if values.null is None else values.null[at])
    if isinstance(values, Numbers):
        return Numbers(values.values[at], None if values.null is None else values.null[at])
    if isinstance(values, Fixed):
        return Fixed(values.data[at])
    return [values[i] for i in at]


def tolist(values: Values) -> list[Any]:
    """Python values of a column (for the few steps that inspect rows: keys, parents)."""
    if isinstance(values, (Pooled, Numbers, Fixed)):
        return values.tolist()
    if isinstance(values, Uuids):
        from uuid import UUID

        raw = values.data.tobytes()
        return [UUID(bytes=raw[i : i + 16]) for i in range(0, len(raw), 16)]
    if isinstance(values, Micros):
        from advisoros_db.datagen.values import timestamps

        moments = timestamps(values.us)
        null = values.null
        return (
            moments
            if null is None
            else [None if k else m for m, k in zip(moments, null, strict=True)]
        )
    return values


class Encoder:
    """Encodes columns of given type oids (binary format, psycopg's dumpers for the odd types)."""

    def __init__(self, oids: Sequence[int], typnames: Sequence[str]) -> None:
        self.oids = list(oids)
        self.typnames = list(typnames)
        self.transformers = [Transformer() for _ in oids]
        # Encoded vocabularies by column, kept with the vocabulary itself (its id stays its own).
        self._vocabularies: dict[int, tuple[Sequence[Any], Field]] = {}

    def encode(self, columns: Sequence[Values]) -> Iterator[tuple[bytes, int]]:
        """The rows as binary COPY tuples and their count, in slices of at most SLICE rows."""
        n = len(columns[0]) if columns else 0
        for lo in range(0, n, SLICE):
            at = np.arange(lo, min(lo + SLICE, n))
            part = columns if n <= SLICE else [take(c, at) for c in columns]
            yield self._rows(part, len(at)), len(at)

    def _rows(self, columns: Sequence[Values], n: int) -> bytes:
        fields = [self._field(c, i) for i, c in enumerate(columns)]
        widths = [np.maximum(lens, 0) + 4 for _, _, lens in fields]
        row_len = 2 + np.sum(widths, axis=0) if widths else np.full(n, 2)
        row_start = np.concatenate(([0], np.cumsum(row_len)[:-1])).astype(np.int64)
        out = np.empty(int(row_len.sum()), dtype=np.uint8)
        count = len(columns).to_bytes(2, "big")
        out[row_start] = count[0]
        out[row_start + 1] = count[1]
        pos = row_start + 2
        for (buf, starts, lens), width in zip(fields, widths, strict=True):
            out[pos[:, None] + np.arange(4)] = lens.astype(">i4").view(np.uint8).reshape(n, 4)
            data_len = np.maximum(lens, 0)
            total = int(data_len.sum())
            if total:
                offsets = np.concatenate(([0], np.cumsum(data_len)[:-1]))
                step = np.arange(total, dtype=np.int64)
                dst = np.repeat(pos + 4 - offsets, data_len) + step
                src = np.repeat(starts - offsets, data_len) + step
                out[dst] = buf[src]
            pos = pos + width
        return out.tobytes()

    def _field(self, values: Values, i: int) -> Field:
        """(bytes, start per row, length per row or -1 for NULL) of one column."""
        n = len(values)
        if isinstance(values, Uuids):
            return values.data.reshape(-1), np.arange(n, dtype=np.int64) * 16, np.full(n, 16)
        if isinstance(values, Micros):
            if self.typnames[i] == "date":
                raw = (values.us // DAY_US - UNIX_TO_PG_US // DAY_US).astype(">i4")
            else:
                raw = (values.us - UNIX_TO_PG_US).astype(">i8")
            width = raw.itemsize
            lens = np.full(n, width)
            if values.null is not None:
                lens = np.where(values.null, -1, width)
            return raw.view(np.uint8), np.arange(n, dtype=np.int64) * width, lens
        if isinstance(values, Numbers):
            return self._numbers(values, i)
        if isinstance(values, Fixed):
            width = values.data.shape[1]
            starts = np.arange(n, dtype=np.int64) * width
            return values.data.reshape(-1), starts, np.full(n, width)
        if isinstance(values, Pooled):
            known = self._vocabularies.get(i)
            if known is None or known[0] is not values.values:
                known = (values.values, self._dumped(list(values.values), i))
                self._vocabularies[i] = known
            buf, starts, lens = known[1]
            return buf, starts[values.index], lens[values.index]
        return self._dumped(values, i)

    def _numbers(self, values: Numbers, i: int) -> Field:
        wire = WIRE.get(self.typnames[i])
        if wire is None:  # numeric and the like: the type's own dumper, value by value
            return self._dumped(values.tolist(), i)
        v = values.values
        if wire.kind == "i" and v.dtype.kind == "f":
            v = np.rint(v)
        raw = np.ascontiguousarray(v.astype(wire))
        n, width = len(raw), wire.itemsize
        lens = np.full(n, width) if values.null is None else np.where(values.null, -1, width)
        return raw.view(np.uint8), np.arange(n, dtype=np.int64) * width, lens

    def _dumped(self, values: Sequence[Any], i: int) -> Field:
        parts: Sequence[Any]
        if self.oids[i] == 25:  # text: str.encode is what the text dumper does, without a call
            parts = [None if v is None else v.encode() for v in values]
        else:  # one call for the column: the dumper of the oid for every position
            tx = self.transformers[i]
            tx.set_dumper_types([self.oids[i]] * len(values), pq.Format.BINARY)
            parts = tx.dump_sequence(values, [PyFormat.BINARY] * len(values))
        lens = np.fromiter((-1 if p is None else len(p) for p in parts), np.int64, len(parts))
        data = np.maximum(lens, 0)
        starts = np.concatenate(([0], np.cumsum(data)[:-1])).astype(np.int64)
        joined = b"".join(p for p in parts if p is not None)
        return np.frombuffer(joined, dtype=np.uint8), starts, lens
