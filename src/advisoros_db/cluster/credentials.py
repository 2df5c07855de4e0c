"""Generated passwords and keys of the embedded cluster, kept in a 0600 file under the home."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from advisoros_db.errors import ClusterError

SUPERUSER = "postgres"


@dataclass(frozen=True)
class Credentials:
    superuser_password: str
    app_password: str
    token_encryption_key: str


def load_or_create(path: Path) -> Credentials:
    """Read the credentials file, creating it with fresh secrets (mode 0600) the first time."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ClusterError(
                f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
            )
        try:
            return Credentials(**json.loads(path.read_text()))
        except (ValueError, TypeError) as exc:
            raise ClusterError(
                f"{path} is damaged; restore it or run `advisoros-db down --destroy`"
            ) from exc
    creds = Credentials(
        superuser_password=secrets.token_urlsafe(24),
        app_password=secrets.token_urlsafe(24),
        token_encryption_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(creds), handle)
    return creds
