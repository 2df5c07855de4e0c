"""The server a backup is taken from, and how PostgreSQL's client programs reach it."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from advisoros_db.cluster import binaries
from advisoros_db.urls import libpq_url


@dataclass(frozen=True)
class Source:
    """`url`: a superuser (or REPLICATION + pg_read_all_settings) login on the primary.
    `server_user`: the OS user restored servers run as."""

    url: str
    server_user: binaries.OsUser

    def _params(self) -> dict[str, str]:
        return {k: str(v) for k, v in conninfo_to_dict(self.url).items() if v is not None}

    @property
    def address(self) -> str:
        params = self._params()
        return f"{params.get('host', 'localhost')}:{params.get('port', '5432')}"

    @property
    def user(self) -> str:
        return self._params().get("user", "postgres")

    def client_args(self, **extra: str) -> tuple[list[str], dict[str, str]]:
        """`-d` connection string without the password, and the environment that carries it."""
        params = self._params()
        password = params.pop("password", None)
        params.pop("dbname", None)
        conninfo = make_conninfo("", **params, **extra)
        return ["-d", conninfo], ({"PGPASSWORD": password} if password else {})

    def url_at(self, port: int, database: str = "postgres") -> str:
        """The same login on a restored copy listening on 127.0.0.1:`port`."""
        params = self._params()
        return libpq_url(
            user=self.user,
            password=params.get("password"),
            host="127.0.0.1",
            port=port,
            database=database,
        )
