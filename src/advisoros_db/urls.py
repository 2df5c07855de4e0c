"""Connection URLs: one libpq form everywhere, converted for SQLAlchemy and masked for display."""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def libpq_url(*, user: str, password: str | None, host: str, port: int, database: str) -> str:
    """Build a `postgresql://` URL with the user and password percent-encoded."""
    auth = quote(user, safe="")
    if password is not None:
        auth += ":" + quote(password, safe="")
    return f"postgresql://{auth}@{host}:{port}/{quote(database, safe='')}"


def to_libpq(url: str) -> str:
    """Drop a SQLAlchemy driver suffix (`postgresql+psycopg://`) so psycopg accepts the URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def to_sqlalchemy(url: str, *, driver: str = "psycopg") -> str:
    """Give a libpq URL the `postgresql+psycopg://` scheme SQLAlchemy needs."""
    parts = urlsplit(to_libpq(url))
    return urlunsplit(
        (f"postgresql+{driver}", parts.netloc, parts.path, parts.query, parts.fragment)
    )


def with_database(url: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(database, safe=""), parts.query, ""))


def database_of(url: str) -> str:
    """The database name a URL points at."""
    return urlsplit(url).path.lstrip("/") or "postgres"


def port_of(url: str) -> int:
    """The TCP port a URL points at (5432 when absent)."""
    return urlsplit(url).port or 5432


# libpq parameters that carry a secret, wherever they appear: URL query string or key=value DSN.
_SECRET_PARAMS = frozenset({"password", "sslpassword"})
_DSN_SECRET = re.compile(
    r"\b(" + "|".join(sorted(_SECRET_PARAMS)) + r")\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"
)


def mask(url: str) -> str:
    """The URL (or key=value DSN) with every password replaced by `***`, safe to print or log:
    the one in the user info and any `password`/`sslpassword` query parameter."""
    if "://" not in url:
        return _DSN_SECRET.sub(lambda m: f"{m.group(1)}=***", url)
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(key in _SECRET_PARAMS for key, _ in pairs):
            query = urlencode(
                [(key, "***" if key in _SECRET_PARAMS else value) for key, value in pairs],
                safe="*",
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _masked(value: object) -> object:
    if isinstance(value, str) and ("://" in value or "password" in value):
        return mask(value)
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


def masked_repr(self: Any) -> str:
    """A dataclass `__repr__` that masks every URL it shows (`__repr__ = masked_repr` in the
    class body): tracebacks, test reports and logs print these objects whole."""
    shown = ", ".join(
        f"{f.name}={_masked(getattr(self, f.name))!r}" for f in dataclasses.fields(self) if f.repr
    )
    return f"{type(self).__name__}({shown})"
