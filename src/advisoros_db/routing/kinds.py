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
        return self in (Kind.WRITE, Kind.TRANSACTIONAL)


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
    if isinstance(kind, Kind):
        return kind
    try:
        return Kind(kind)
    except ValueError:
        valid = ", ".join(k.value for k in Kind)
        raise UnknownKind(f"unknown session kind {kind!r}; use one of: {valid}") from None
