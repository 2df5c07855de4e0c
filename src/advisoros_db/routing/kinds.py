"""Workload kinds a session asks for, and the node roles that serve them."""

from __future__ import annotations

from enum import StrEnum

from advisoros_db.errors import AdvisorOSError


class Kind(StrEnum):
    """What a session will do; decides which node it runs on."""

    WRITE = "write"
    TRANSACTIONAL = "transactional"
    READ = "read"
    ANALYTICS = "analytics"
    BACKGROUND = "background"

    @property
    def writes(self) -> bool:
        """True for kinds that run on the primary and may change data."""
        return self in _WRITES


_WRITES = frozenset({Kind.WRITE, Kind.TRANSACTIONAL})
# By value; a Kind is a str equal to its value, so it finds itself here too (one dict lookup).
_BY_VALUE: dict[str, Kind] = {k.value: k for k in Kind}


class Role(StrEnum):
    """What a node was configured for."""

    PRIMARY = "primary"
    READ = "read"
    ANALYTICS = "analytics"
    BACKGROUND = "background"
    DR = "dr"


class RoutingError(AdvisorOSError):
    """No node could serve a session; the message says which nodes were tried and why."""


class UnknownKind(RoutingError):
    """A session asked for a workload kind the router does not know."""


def parse_kind(kind: Kind | str) -> Kind:
    """Accept a Kind or its name; refuse anything else with the list of valid kinds."""
    found = _BY_VALUE.get(kind) if isinstance(kind, str) else None
    if found is None:
        valid = ", ".join(k.value for k in Kind)
        raise UnknownKind(f"unknown session kind {kind!r}; use one of: {valid}")
    return found
