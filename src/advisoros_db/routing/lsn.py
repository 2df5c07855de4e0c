"""WAL positions (`pg_lsn`) as integers, and consistency tokens built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisoros_db.errors import AdvisorOSError

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")
_TOKEN_PREFIX = "wal:"


class InvalidToken(AdvisorOSError):
    """A consistency token could not be parsed."""


def parse_lsn(text: str) -> int:
    """`'16/B374D848'` → a byte position."""
    match = _LSN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a WAL position like '0/3000148'")
    return (int(match.group(1), 16) << 32) + int(match.group(2), 16)


def format_lsn(position: int) -> str:
    """A byte position → PostgreSQL's `pg_lsn` text form."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


@dataclass(frozen=True, order=True)
class ConsistencyToken:
    """The WAL position a commit reached; reads carrying it see that commit.

    Its text form (`wal:0/3000148`) is small enough for an HTTP header or a job payload.
    """

    lsn: int

    def __str__(self) -> str:
        return _TOKEN_PREFIX + format_lsn(self.lsn)

    @classmethod
    def parse(cls, text: str) -> ConsistencyToken:
        """Read a token's text form; a malformed one is refused with what was expected."""
        if not text.startswith(_TOKEN_PREFIX):
            raise InvalidToken(
                f"consistency token {text!r} must look like 'wal:0/3000148' "
                "(pass on the value a write session returned, unchanged)"
            )
        try:
            return cls(parse_lsn(text[len(_TOKEN_PREFIX) :]))
        except ValueError as exc:
            raise InvalidToken(f"consistency token {text!r}: {exc}") from None

    @staticmethod
    def latest(*tokens: ConsistencyToken | None) -> ConsistencyToken | None:
        """The newest of several tokens (reads that satisfy it satisfy all of them)."""
        present = [t for t in tokens if t is not None]
        return max(present) if present else None
