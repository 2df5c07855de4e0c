"""Connection URLs: one libpq form everywhere, converted for SQLAlchemy and masked for display."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


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


def mask(url: str) -> str:
    """The URL with its password replaced by `***`, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
